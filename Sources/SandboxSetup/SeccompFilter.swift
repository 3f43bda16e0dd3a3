import PSShim

/// Builds the classic-BPF seccomp program installed in every handler process.
///
/// It denies syscalls a handler never needs with `EPERM`, forbids creating namespaces through
/// `clone`, makes `clone3` fail with `ENOSYS` (so libc falls back to the checkable `clone`),
/// and kills the process if it calls in with a foreign architecture.
public struct SeccompFilter: Sendable {
    public struct Instruction: Equatable, Sendable {
        public var code: UInt16
        public var jumpTrue: UInt8
        public var jumpFalse: UInt8
        public var k: UInt32
    }

    /// Syscall numbers for one architecture.
    public struct SyscallTable: Sendable {
        public var auditArch: UInt32
        public var denied: [String: UInt32]
        public var clone: UInt32
        public var clone3: UInt32
        /// Syscall numbers at or above this belong to another ABI on the same arch (x32).
        public var foreignABIFloor: UInt32?
    }

    public static let namespaceCloneFlags: UInt32 = 0x7E02_0080

    public static let retAllow: UInt32 = 0x7FFF_0000
    public static let retKillProcess: UInt32 = 0x8000_0000
    public static func retErrno(_ errno: Int32) -> UInt32 { 0x0005_0000 | (UInt32(errno) & 0xFFFF) }

    public let table: SyscallTable
    public init(table: SyscallTable) { self.table = table }

    /// The same filter with some denied syscalls allowed (a zygote needs `setns` to move its children).
    public func allowing(_ names: Set<String>) -> SeccompFilter {
        var table = self.table
        for name in names { table.denied[name] = nil }
        return SeccompFilter(table: table)
    }

    /// The program as the bytes of a `struct sock_filter` array, for a process that installs it itself.
    public var programBytes: [UInt8] {
        instructions.flatMap { instruction -> [UInt8] in
            withUnsafeBytes(of: instruction.code, Array.init) + [instruction.jumpTrue, instruction.jumpFalse]
                + withUnsafeBytes(of: instruction.k, Array.init)
        }
    }

    /// The filter for the architecture this binary runs on, or nil if it is not supported.
    public static var native: SeccompFilter? {
        let arch = ps_audit_arch()
        for table in [SyscallTable.x86_64, .aarch64] where table.auditArch == arch {
            return SeccompFilter(table: table)
        }
        return nil
    }

    public var instructions: [Instruction] {
        let ldAbs: UInt16 = 0x20, jeq: UInt16 = 0x15, jge: UInt16 = 0x35, jset: UInt16 = 0x45, ret: UInt16 = 0x06
        let eperm = Self.retErrno(1), enosys = Self.retErrno(38)
        let deniedNumbers = table.denied.values.sorted()
        var program: [Instruction] = []
        func emit(_ code: UInt16, _ k: UInt32, _ jt: Int = 0, _ jf: Int = 0) {
            program.append(Instruction(code: code, jumpTrue: UInt8(jt), jumpFalse: UInt8(jf), k: k))
        }
        emit(ldAbs, 4)                                   // arch
        emit(jeq, table.auditArch, 1, 0)
        emit(ret, Self.retKillProcess)
        emit(ldAbs, 0)                                   // syscall number
        if let floor = table.foreignABIFloor {
            emit(jge, floor, 0, 1)
            emit(ret, eperm)
        }
        emit(jeq, table.clone3, 0, 1)
        emit(ret, enosys)
        // The deny list jumps to `deny`, `clone` jumps to the flag check after it.
        let listStart = program.count + 1
        let allowIndex = listStart + deniedNumbers.count
        let denyIndex = allowIndex + 1
        let cloneCheckIndex = denyIndex + 1
        emit(jeq, table.clone, cloneCheckIndex - (program.count + 1), 0)
        for number in deniedNumbers {
            emit(jeq, number, denyIndex - (program.count + 1), 0)
        }
        emit(ret, Self.retAllow)
        emit(ret, eperm)
        emit(ldAbs, 16)                                  // low 32 bits of clone's flags
        emit(jset, Self.namespaceCloneFlags, 0, 1)
        emit(ret, eperm)
        emit(ret, Self.retAllow)
        return program
    }

    /// Installs the filter on the calling thread. Requires `no_new_privs` or CAP_SYS_ADMIN.
    public func install() -> Int32 {
        let program = instructions.map { sock_filter(code: $0.code, jt: $0.jumpTrue, jf: $0.jumpFalse, k: $0.k) }
        return program.withUnsafeBufferPointer { buffer in
            ps_seccomp_set_filter(buffer.baseAddress, UInt16(buffer.count))
        }
    }
}

extension SeccompFilter.SyscallTable {
    public static let x86_64 = Self(
        auditArch: 0xC000_003E,
        denied: [
            "ptrace": 101, "syslog": 103, "vhangup": 153, "pivot_root": 155, "_sysctl": 156, "adjtimex": 159,
            "chroot": 161, "acct": 163, "settimeofday": 164, "mount": 165, "umount2": 166, "swapon": 167,
            "swapoff": 168, "reboot": 169, "sethostname": 170, "setdomainname": 171, "iopl": 172, "ioperm": 173,
            "create_module": 174, "init_module": 175, "delete_module": 176, "get_kernel_syms": 177,
            "query_module": 178, "quotactl": 179, "nfsservctl": 180, "lookup_dcookie": 212, "clock_settime": 227,
            "kexec_load": 246, "add_key": 248, "request_key": 249, "keyctl": 250, "unshare": 272,
            "perf_event_open": 298, "fanotify_init": 300, "name_to_handle_at": 303, "open_by_handle_at": 304,
            "clock_adjtime": 305, "setns": 308, "process_vm_readv": 310, "process_vm_writev": 311, "kcmp": 312,
            "finit_module": 313, "kexec_file_load": 320, "bpf": 321, "userfaultfd": 323, "io_uring_setup": 425,
            "io_uring_enter": 426, "io_uring_register": 427, "open_tree": 428, "move_mount": 429, "fsopen": 430,
            "fsconfig": 431, "fsmount": 432, "fspick": 433, "pidfd_getfd": 438, "mount_setattr": 442,
        ],
        clone: 56, clone3: 435, foreignABIFloor: 0x4000_0000
    )

    public static let aarch64 = Self(
        auditArch: 0xC000_00B7,
        denied: [
            "lookup_dcookie": 18, "umount2": 39, "mount": 40, "pivot_root": 41, "chroot": 51, "vhangup": 58,
            "quotactl": 60, "acct": 89, "unshare": 97, "kexec_load": 104, "init_module": 105, "delete_module": 106,
            "clock_settime": 112, "syslog": 116, "ptrace": 117, "reboot": 142, "sethostname": 161,
            "setdomainname": 162, "settimeofday": 170, "adjtimex": 171, "add_key": 217, "request_key": 218,
            "keyctl": 219, "swapon": 224, "swapoff": 225, "perf_event_open": 241, "fanotify_init": 262,
            "name_to_handle_at": 264, "open_by_handle_at": 265, "clock_adjtime": 266, "setns": 268,
            "process_vm_readv": 270, "process_vm_writev": 271, "kcmp": 272, "finit_module": 273, "bpf": 280,
            "userfaultfd": 282, "kexec_file_load": 294, "io_uring_setup": 425, "io_uring_enter": 426,
            "io_uring_register": 427, "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431,
            "fsmount": 432, "fspick": 433, "pidfd_getfd": 438, "mount_setattr": 442,
        ],
        clone: 220, clone3: 435, foreignABIFloor: nil
    )
}
