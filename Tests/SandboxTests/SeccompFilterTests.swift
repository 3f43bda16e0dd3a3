import SandboxSetup
import Testing

/// Runs the generated classic-BPF program on a synthetic `seccomp_data`, as the kernel would.
private func evaluate(_ program: [SeccompFilter.Instruction], arch: UInt32, nr: UInt32, arg0: UInt64 = 0) -> UInt32 {
    var accumulator: UInt32 = 0
    var pc = 0
    while pc < program.count {
        let instruction = program[pc]
        switch instruction.code {
        case 0x20:  // ld [k]
            switch instruction.k {
            case 0: accumulator = nr
            case 4: accumulator = arch
            case 16: accumulator = UInt32(truncatingIfNeeded: arg0)
            default: Issue.record("unexpected load offset \(instruction.k)")
            }
            pc += 1
        case 0x15: pc += 1 + Int(accumulator == instruction.k ? instruction.jumpTrue : instruction.jumpFalse)
        case 0x35: pc += 1 + Int(accumulator >= instruction.k ? instruction.jumpTrue : instruction.jumpFalse)
        case 0x45: pc += 1 + Int(accumulator & instruction.k != 0 ? instruction.jumpTrue : instruction.jumpFalse)
        case 0x06: return instruction.k
        default:
            Issue.record("unexpected opcode \(instruction.code)")
            return 0
        }
    }
    Issue.record("program fell off the end")
    return 0
}

@Suite struct SeccompFilterTests {
    let table = SeccompFilter.SyscallTable.x86_64
    var program: [SeccompFilter.Instruction] { SeccompFilter(table: table).instructions }

    @Test(arguments: ["mount", "umount2", "pivot_root", "unshare", "setns", "ptrace", "bpf", "keyctl", "kexec_load",
                      "init_module", "finit_module", "syslog"])
    func deniesDangerousSyscalls(_ name: String) throws {
        let number = try #require(table.denied[name])
        #expect(evaluate(program, arch: table.auditArch, nr: number) == SeccompFilter.retErrno(1))
    }

    @Test(arguments: [0, 1, 2, 3, 9, 57, 59, 60, 231] as [UInt32])
    func allowsOrdinarySyscalls(_ number: UInt32) {
        #expect(evaluate(program, arch: table.auditArch, nr: number) == SeccompFilter.retAllow)
    }

    @Test func cloneWithoutNamespaceFlagsIsAllowed() {
        let threadFlags: UInt64 = 0x003D_0F00
        #expect(evaluate(program, arch: table.auditArch, nr: table.clone, arg0: threadFlags) == SeccompFilter.retAllow)
    }

    @Test(arguments: [0x1000_0000, 0x2000_0000, 0x4000_0000, 0x0002_0000] as [UInt64])
    func cloneIntoNewNamespacesIsDenied(_ flag: UInt64) {
        #expect(evaluate(program, arch: table.auditArch, nr: table.clone, arg0: flag | 0x11) == SeccompFilter.retErrno(1))
    }

    @Test func clone3FailsWithENOSYS() {
        #expect(evaluate(program, arch: table.auditArch, nr: table.clone3) == SeccompFilter.retErrno(38))
    }

    @Test func foreignArchitectureKillsTheProcess() {
        #expect(evaluate(program, arch: 0x4000_0003, nr: 0) == SeccompFilter.retKillProcess)
    }

    @Test func x32SyscallsAreDenied() {
        #expect(evaluate(program, arch: table.auditArch, nr: 0x4000_0000 + 165) == SeccompFilter.retErrno(1))
    }

    @Test func aarch64TableDeniesMount() throws {
        let arm = SeccompFilter.SyscallTable.aarch64
        let instructions = SeccompFilter(table: arm).instructions
        #expect(evaluate(instructions, arch: arm.auditArch, nr: try #require(arm.denied["mount"])) == SeccompFilter.retErrno(1))
        #expect(evaluate(instructions, arch: arm.auditArch, nr: 63) == SeccompFilter.retAllow)
    }
}
