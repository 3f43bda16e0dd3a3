import Foundation
import PipsqueakCore
import PSShim
import Synchronization

/// A live zygote: a sleeping interpreter with `packages` imported, in a sandbox and user namespace of its own.
public final class ZygoteProcess: Sendable {
    public let id: String
    /// Every distribution imported in it (its parent's and its own).
    public let packages: [PackageRef]
    /// The host pid of the interpreter.
    public let hostPID: pid_t
    /// Seconds its own imports took.
    public let importSeconds: Double
    /// Host ids of its user namespace, and the ranges it hands to child zygotes.
    public let idRange: ZygoteIDRange
    let control: ControlSocket
    /// The zygote's own sandbox (its pid 1, cgroup and namespaces).
    let sandbox: PreparedSandbox
    let pidfd: OwnedDescriptor
    private let childSlots = Mutex<Set<Int>>([])
    /// The parent's id range this zygote occupies, given back when it is destroyed.
    private let slot: (parent: ZygoteProcess, index: Int)?

    init(id: String, packages: [PackageRef], hostPID: pid_t, importSeconds: Double, idRange: ZygoteIDRange, control: ControlSocket,
         sandbox: PreparedSandbox, pidfd: OwnedDescriptor, slot: (parent: ZygoteProcess, index: Int)? = nil) {
        self.slot = slot
        self.id = id
        self.packages = packages
        self.hostPID = hostPID
        self.importSeconds = importSeconds
        self.idRange = idRange
        self.control = control
        self.sandbox = sandbox
        self.pidfd = pidfd
    }

    /// The interpreter's memory now (private pages are what killing it frees).
    public func memory() -> ProcessMemory? { isAlive ? ProcessMemory.read(pid: hostPID) : nil }

    /// Memory charged to the zygote's cgroup: the pages it touched first, shared or not.
    public func chargedMemory() -> Int64 { sandbox.cgroup.memoryUsage() ?? 0 }

    /// Whether the interpreter still runs (a pidfd becomes readable when its process exits).
    public var isAlive: Bool {
        var wait = pollfd(fd: pidfd.raw, events: Int16(POLLIN), revents: 0)
        return poll(&wait, 1, 0) == 0
    }

    /// Kills the interpreter only. Its sandbox (pid 1, namespaces) stays while instances forked from it live.
    public func terminate() {
        _ = ps_pidfd_send_signal(pidfd.raw, SIGKILL)
        control.descriptor.close()
    }

    /// Kills the interpreter and its sandbox, with every process in it. Instances forked from it die too: their
    /// pid namespaces are children of the zygote's.
    public func destroy() async {
        terminate()
        pidfd.close()
        await sandbox.destroy()
        if let slot { slot.parent.releaseChildSlot(slot.index) }
    }

    /// Reserves a child slot (an id range); nil when the zygote has no room for more children.
    func claimChildSlot() -> (Int, ZygoteIDRange)? {
        childSlots.withLock { used in
            for index in 0..<idRange.childCapacity where !used.contains(index) {
                guard let range = idRange.child(index) else { return nil }
                used.insert(index)
                return (index, range)
            }
            return nil
        }
    }

    func releaseChildSlot(_ index: Int) {
        _ = childSlots.withLock { $0.remove(index) }
    }
}
