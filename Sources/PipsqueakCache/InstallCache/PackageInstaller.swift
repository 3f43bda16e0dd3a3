import PipsqueakCore

/// The install cache's mechanism: resolving, installing, measuring and removing distributions, and reading the
/// store. The real one runs pip in sandboxes (`PipsqueakPackages`); tests use fakes. Implementations keep
/// blocking file work off Swift's cooperative pool.
public protocol PackageInstaller: Sendable {
    /// Every complete installation in the store, after discarding what an interrupted one left.
    func loadStore() async throws(PipsqueakError) -> [InstalledPackage]
    /// The exact closure of distributions that satisfies `requirements`.
    func resolve(requirements: [String]) async throws(PipsqueakError) -> [PackageRef]
    /// Installs one distribution, read-only, and describes it. Never leaves a partial installation visible.
    func install(_ ref: PackageRef) async throws(PipsqueakError) -> InstalledPackage
    /// Seconds to import `package`'s top-level modules in a fresh sandboxed interpreter with `closure` on its
    /// path; nil if they could not be imported.
    func measureImport(of package: InstalledPackage, closure: [PackageRef]) async throws(PipsqueakError) -> Double?
    /// Persists updated metadata (such as a measured import time).
    func save(_ package: InstalledPackage) async
    /// Removes an installed distribution from disk.
    func remove(_ ref: PackageRef) async
}
