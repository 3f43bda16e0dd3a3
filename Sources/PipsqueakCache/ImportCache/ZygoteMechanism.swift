import PipsqueakCore

/// What the import cache needs of the Linux mechanism: starting, forking, measuring and stopping zygotes. The
/// worker's implementation runs them in user-namespace sandboxes; tests use fakes.
public protocol ZygoteMechanism: Sendable {
    associatedtype Zygote: AnyObject & Sendable

    /// The root zygote: the runtime only.
    func startRoot() async throws(PipsqueakError) -> Zygote
    /// A child of `parent` holding `packages` (the parent's and more), which imports `modules` once forked.
    func fork(_ parent: Zygote, id: String, packages: [PackageRef], modules: [String]) async throws(PipsqueakError) -> Zygote
    func isAlive(_ zygote: Zygote) -> Bool
    /// Bytes charged to the zygote's cgroup.
    func chargedBytes(_ zygote: Zygote) -> Int64
    /// Stops the interpreter; its sandbox stays while instances or child zygotes depend on it.
    func retire(_ zygote: Zygote)
    /// Removes the zygote's sandbox; nothing depends on it any more.
    func destroy(_ zygote: Zygote) async
}

/// What the import cache knows of each installed distribution: how long it takes to import, and its modules.
public struct PackageFacts: Sendable {
    public var importSeconds: [PackageRef: Double]
    public var modules: [PackageRef: [String]]

    public init(importSeconds: [PackageRef: Double] = [:], modules: [PackageRef: [String]] = [:]) {
        self.importSeconds = importSeconds
        self.modules = modules
    }
}
