import Foundation
import Synchronization

/// A file descriptor with one owner: closed exactly once, by `close()` or when the owner goes away.
public final class OwnedDescriptor: Sendable {
    private let state: Mutex<Int32>

    public init(_ raw: Int32) { state = Mutex(raw) }

    /// The descriptor, or -1 once closed.
    public var raw: Int32 { state.withLock { $0 } }

    public func close() {
        let fd = state.withLock { fd in
            defer { fd = -1 }
            return fd
        }
        if fd >= 0 { Foundation.close(fd) }
    }

    /// Gives up ownership: returns the descriptor (or -1) without closing it.
    public func take() -> Int32 {
        state.withLock { fd in
            defer { fd = -1 }
            return fd
        }
    }

    /// The inode of what the descriptor refers to (for namespaces: the namespace's identity).
    public var inode: UInt64? {
        var info = stat()
        return fstat(raw, &info) == 0 ? UInt64(info.st_ino) : nil
    }

    deinit { close() }
}

/// The namespaces of a prepared sandbox, as the sandbox's pid 1 reported them.
public struct NamespaceSet: Sendable {
    public let user: OwnedDescriptor
    public let mount: OwnedDescriptor
    public let ipc: OwnedDescriptor
    public let uts: OwnedDescriptor
    public let network: OwnedDescriptor
    public let pid: OwnedDescriptor

    /// From the six descriptors in the order the helper sends them: user, mnt, ipc, uts, net, pid.
    init?(_ fds: [Int32]) {
        guard fds.count == 6 else { return nil }
        user = OwnedDescriptor(fds[0])
        mount = OwnedDescriptor(fds[1])
        ipc = OwnedDescriptor(fds[2])
        uts = OwnedDescriptor(fds[3])
        network = OwnedDescriptor(fds[4])
        pid = OwnedDescriptor(fds[5])
    }

    func closeAll() {
        for fd in [user, mount, ipc, uts, network, pid] { fd.close() }
    }
}
