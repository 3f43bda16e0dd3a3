import Foundation
import Logging
import PipsqueakCore

/// Tier 3: every distribution installed once, read-only, and shared by every handler that needs it.
///
/// This actor keeps the books (what is installed, what is being installed, use times, budget); the
/// `PackageInstaller` does the work, in sandboxes.
public actor InstallCache {
    public struct Stats: Sendable, Codable {
        public var hits = 0
        public var misses = 0
        public var evictions = 0
        public var packages = 0
        public var installedBytes: Int64 = 0
    }

    /// Disk budget in bytes; 0 means unlimited.
    public let budgetBytes: Int64
    private let installer: any PackageInstaller
    private let logger: Logger
    private var installed: [PackageRef: InstalledPackage] = [:]
    private var inFlight: [PackageRef: Task<InstalledPackage, any Error>] = [:]
    /// Removals in progress; an install of the same distribution waits for its removal to finish.
    private var removals: [PackageRef: Task<Void, Never>] = [:]
    /// Distributions that work in progress (a deploy not yet committed, a starting instance) needs; never removed.
    private var reserved: [PackageRef: Int] = [:]
    private var stats = Stats()

    /// Loads the store through `installer`.
    public init(installer: any PackageInstaller, budgetBytes: Int64, logger: Logger) async throws(PipsqueakError) {
        self.installer = installer
        self.budgetBytes = budgetBytes
        self.logger = logger
        for package in try await installer.loadStore() { installed[package.ref] = package }
    }

    public func isInstalled(_ ref: PackageRef) -> Bool { installed[ref] != nil }

    public func package(_ ref: PackageRef) -> InstalledPackage? { installed[ref] }

    public func list() -> [InstalledPackage] { installed.values.sorted { $0.ref < $1.ref } }

    public func snapshot() -> Stats {
        var result = stats
        result.packages = installed.count
        result.installedBytes = installed.values.reduce(0) { $0 + $1.installedBytes }
        return result
    }

    /// Measured import seconds of each installed distribution of `refs` (0 where unknown).
    public func importSeconds(_ refs: some Sequence<PackageRef>) -> [PackageRef: Double] {
        Dictionary(refs.map { ($0, installed[$0]?.importSeconds ?? 0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Import seconds and module names of every installed distribution, for the import cache.
    public func facts() -> PackageFacts {
        var facts = PackageFacts()
        for (ref, package) in installed {
            facts.importSeconds[ref] = package.importSeconds ?? 0
            facts.modules[ref] = package.topLevel
        }
        return facts
    }

    public func resolve(requirements: [String]) async throws(PipsqueakError) -> [PackageRef] {
        try await installer.resolve(requirements: requirements)
    }

    // MARK: reservations

    /// Keeps `refs` from garbage collection and the budget until `release` is called with the same refs.
    public func reserve(_ refs: [PackageRef]) {
        for ref in refs { reserved[ref, default: 0] += 1 }
    }

    public func release(_ refs: [PackageRef]) {
        for ref in refs {
            guard let count = reserved[ref] else { continue }
            reserved[ref] = count > 1 ? count - 1 : nil
        }
    }

    // MARK: installation

    /// Installs every missing distribution of a closure (each once, even under concurrent calls), then measures
    /// import times not yet known. Returns how many distributions had to be installed.
    @discardableResult
    public func ensureInstalled(_ closure: [PackageRef], progress: @escaping @Sendable (String) -> Void = { _ in })
        async throws(PipsqueakError) -> Int {
        reserve(closure)
        defer { release(closure) }
        var installedNow = 0
        for (index, ref) in closure.enumerated() {
            if installed[ref] != nil {
                stats.hits += 1
                continue
            }
            progress("installing \(ref.name) \(ref.version) (\(index + 1)/\(closure.count))")
            if let removal = removals[ref] { await removal.value }
            if installed[ref] != nil { continue }
            let task: Task<InstalledPackage, any Error>
            if let running = inFlight[ref] {
                task = running
            } else {
                stats.misses += 1
                installedNow += 1
                let installer = self.installer
                task = Task { () async throws -> InstalledPackage in try await installer.install(ref) }
                inFlight[ref] = task
            }
            do {
                let package = try await task.value
                installed[ref] = package
                inFlight[ref] = nil
            } catch {
                inFlight[ref] = nil
                throw (error as? PipsqueakError) ?? PipsqueakError(.installFailed, "\(ref): \(error)")
            }
        }
        try await measureImports(closure, progress: progress)
        touch(closure)
        return installedNow
    }

    private func measureImports(_ closure: [PackageRef], progress: @Sendable (String) -> Void) async throws(PipsqueakError) {
        for ref in closure where installed[ref]?.importSeconds == nil {
            guard let package = installed[ref] else { continue }
            if package.topLevel.isEmpty {
                installed[ref]?.importSeconds = 0
                continue
            }
            progress("measuring import of \(ref.name)")
            let seconds = try await installer.measureImport(of: package, closure: closure)
            installed[ref]?.importSeconds = seconds ?? 0
            if let updated = installed[ref] { await installer.save(updated) }
        }
    }

    // MARK: store management

    /// Marks a closure as just used (for LRU eviction).
    public func touch(_ closure: [PackageRef]) {
        let now = Date()
        for ref in closure { installed[ref]?.lastUsed = now }
    }

    /// Removes distributions outside `keep`; never one in `inUse`, reserved or being installed. Returns what it removed.
    public func collectGarbage(keep: Set<PackageRef>, inUse: Set<PackageRef>) async -> [PackageRef] {
        let victims = installed.keys.filter { !keep.contains($0) && !inUse.contains($0) && !isBusy($0) }.sorted()
        for ref in victims { await remove(ref) }
        return victims
    }

    /// Removes least-recently-used distributions not in use until the store fits the disk budget.
    public func enforceBudget(inUse: Set<PackageRef>) async -> [PackageRef] {
        guard budgetBytes > 0 else { return [] }
        let candidates = installed.values.filter { !isBusy($0.ref) }.map { (ref: $0.ref, lastUsed: $0.lastUsed, bytes: $0.installedBytes) }
        let pinnedBytes = installed.values.filter { isBusy($0.ref) }.reduce(Int64(0)) { $0 + $1.installedBytes }
        let victims = InstallCachePolicy.evictions(candidates, inUse: inUse, budgetBytes: max(0, budgetBytes - pinnedBytes))
        for ref in victims {
            stats.evictions += 1
            await remove(ref)
        }
        return victims
    }

    private func isBusy(_ ref: PackageRef) -> Bool { inFlight[ref] != nil || reserved[ref] != nil }

    private func remove(_ ref: PackageRef) async {
        guard installed.removeValue(forKey: ref) != nil else { return }
        let installer = self.installer
        let removal = Task { await installer.remove(ref) }
        removals[ref] = removal
        await removal.value
        removals[ref] = nil
        logger.info("removed package", metadata: ["package": "\(ref)"])
    }
}
