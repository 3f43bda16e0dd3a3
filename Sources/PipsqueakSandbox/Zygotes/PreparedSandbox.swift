import Foundation
import PipsqueakCore

/// A sandbox built inside a zygote's user namespace, holding its namespaces, waiting for a forked occupant.
public final class PreparedSandbox: Sendable {
    public let id: String
    public let cgroup: Cgroup
    let helperPID: pid_t
    let statusPipe: OwnedDescriptor
    let rootDirectory: String
    let namespaces: NamespaceSet
    /// The distributions mounted in it.
    public let packages: [PackageRef]
    public let createdAt = ContinuousClock.now

    init(id: String, cgroup: Cgroup, helperPID: pid_t, statusPipe: Int32, rootDirectory: String, namespaces: NamespaceSet,
         packages: [PackageRef]) {
        self.id = id
        self.cgroup = cgroup
        self.helperPID = helperPID
        self.statusPipe = OwnedDescriptor(statusPipe)
        self.rootDirectory = rootDirectory
        self.namespaces = namespaces
        self.packages = packages
    }

    /// Kills everything in the sandbox's cgroup and removes it.
    public func destroy() async {
        namespaces.closeAll()
        let cgroup = self.cgroup
        await BlockingWork.run { try? cgroup.killAll() }
        _ = await HelperProcess.reap(helperPID)
        await BlockingWork.run { try? cgroup.remove() }
        statusPipe.close()
        rmdir(rootDirectory)
    }

    /// Whether `pid` (a host pid) is a process of this sandbox's pid namespace.
    func contains(hostPID pid: pid_t) -> Bool {
        var info = stat()
        guard stat("/proc/\(pid)/ns/pid", &info) == 0, let expected = namespaces.pid.inode else { return false }
        return UInt64(info.st_ino) == expected
    }
}
