import Foundation
import Logging
import PipsqueakCache
import PipsqueakCore
import PipsqueakPackages
import PipsqueakSandbox
import Synchronization

/// The import cache's mechanism in this worker: zygotes in user-namespace sandboxes (`SandboxLauncher`), their
/// packages mounted from the install cache's store.
final class SandboxZygotes: ZygoteMechanism {
    let launcher: SandboxLauncher
    let installer: SandboxedInstaller
    let memoryMB: Int
    let logger: Logger
    /// Told when a zygote stops serving, so sandboxes prepared for it are dropped.
    let onRetire: @Sendable (ZygoteProcess) -> Void
    private let roots = Mutex(0)

    init(launcher: SandboxLauncher, installer: SandboxedInstaller, memoryMB: Int, logger: Logger,
         onRetire: @escaping @Sendable (ZygoteProcess) -> Void) {
        self.launcher = launcher
        self.installer = installer
        self.memoryMB = memoryMB
        self.logger = logger
        self.onRetire = onRetire
    }

    func startRoot() async throws(PipsqueakError) -> ZygoteProcess {
        let number = roots.withLock { $0 += 1; return $0 }
        return try await launcher.startRootZygote(ZygoteSpec(id: number == 1 ? "root" : "root-\(number)", packages: [], imports: [],
                                                             memoryMB: memoryMB), logger: logger)
    }

    func fork(_ parent: ZygoteProcess, id: String, packages: [PackageRef], modules: [String]) async throws(PipsqueakError) -> ZygoteProcess {
        let mounts = packages.map { (ref: $0, site: installer.siteDirectory(of: $0).path) }
        return try await launcher.forkZygote(from: parent, ZygoteSpec(id: id, packages: mounts, imports: modules, memoryMB: memoryMB),
                                             logger: logger)
    }

    func isAlive(_ zygote: ZygoteProcess) -> Bool { zygote.isAlive }
    func chargedBytes(_ zygote: ZygoteProcess) -> Int64 { zygote.chargedMemory() }

    func retire(_ zygote: ZygoteProcess) {
        zygote.terminate()
        onRetire(zygote)
    }

    func destroy(_ zygote: ZygoteProcess) async { await zygote.destroy() }
}

/// Handler sandboxes prepared inside zygotes' user namespaces ahead of demand, per handler revision and zygote;
/// least recently added go first beyond the capacity.
actor PreparedPool {
    struct Key: Hashable {
        var handler: String
        var revision: String
        var zygote: ObjectIdentifier
    }

    let capacity: Int
    private var items: [(key: Key, sandbox: PreparedSandbox)] = []
    private var preparing = 0
    private var closed = false

    init(capacity: Int) { self.capacity = capacity }

    var count: Int { items.count }

    func take(_ key: Key) -> PreparedSandbox? {
        guard let index = items.firstIndex(where: { $0.key == key }) else { return nil }
        return items.remove(at: index).sandbox
    }

    func holds(_ key: Key) -> Bool { items.contains { $0.key == key } }

    /// Whether another preparation may start now (at most two at once, and only while there is room).
    func beginPreparing() -> Bool {
        guard !closed, preparing < 2, items.count + preparing < capacity else { return false }
        preparing += 1
        return true
    }

    func add(_ key: Key, _ sandbox: PreparedSandbox) async {
        preparing -= 1
        if closed {
            await sandbox.destroy()
            return
        }
        items.append((key, sandbox))
        while items.count > capacity { await items.removeFirst().sandbox.destroy() }
    }

    func preparationFailed() { preparing -= 1 }

    /// Drops what was prepared for a zygote that no longer serves, or for a handler's older revisions.
    func drop(where shouldDrop: (Key) -> Bool) async {
        let dropped = items.filter { shouldDrop($0.key) }
        items.removeAll { shouldDrop($0.key) }
        for item in dropped { await item.sandbox.destroy() }
    }

    func shutdown() async {
        closed = true
        let all = items
        items = []
        for item in all { await item.sandbox.destroy() }
    }
}
