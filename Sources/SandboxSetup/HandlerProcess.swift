#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import PSShim

/// The last steps before handler code runs: limits, identity, no privileges, seccomp, exec.
public struct HandlerProcess {
    public let config: SandboxConfiguration

    public init(config: SandboxConfiguration) { self.config = config }

    /// Never returns on success.
    public func exec(statusFD: Int32) throws(SetupError) -> Never {
        _ = fcntl(statusFD, F_SETFD, FD_CLOEXEC)
        try setLimit(Int32(RLIMIT_NOFILE.rawValue), UInt64(config.maxOpenFiles), "RLIMIT_NOFILE")
        try setLimit(Int32(RLIMIT_FSIZE.rawValue), UInt64(config.maxFileSizeMB) << 20, "RLIMIT_FSIZE")
        try setLimit(Int32(RLIMIT_CORE.rawValue), 0, "RLIMIT_CORE")
        signal(SIGXFSZ, SIG_IGN)
        if chdir(config.workingDirectory) < 0 { try check(chdir("/"), "chdir /") }
        try dropPrivileges()
        try check(ps_prctl(PS_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
        guard let filter = SeccompFilter.native else { throw SetupError("seccomp: unsupported architecture", code: 0) }
        try check(filter.install(), "install seccomp filter")
        let argv = config.command.map { strdup($0) } + [nil]
        let envp = config.environment.map { strdup($0) } + [nil]
        execve(config.command[0], argv, envp)
        throw SetupError("exec \(config.command[0])")
    }

    /// Capabilities a zygote keeps inside its user namespace: joining namespaces (`setns` needs CAP_SYS_ADMIN,
    /// and CAP_SYS_CHROOT for a mount namespace) and dropping its children to a handler's ids.
    public static let zygoteCapabilities: Set<UInt> = [6, 7, 8, 18, 21]  // SETGID, SETUID, SETPCAP, SYS_CHROOT, SYS_ADMIN

    /// Runs `command` as root of the sandbox's user namespace (a root zygote): capabilities there are bounded to
    /// `zygoteCapabilities`, `no_new_privs` is set and the zygote seccomp filter (the handler's, but allowing
    /// `setns`) is installed. It holds no capability outside its user namespace. Never returns on success.
    public func execAsNamespaceRoot(statusFD: Int32) throws(SetupError) -> Never {
        _ = fcntl(statusFD, F_SETFD, FD_CLOEXEC)
        try setLimit(Int32(RLIMIT_NOFILE.rawValue), UInt64(config.maxOpenFiles), "RLIMIT_NOFILE")
        try setLimit(Int32(RLIMIT_CORE.rawValue), 0, "RLIMIT_CORE")
        if chdir(config.workingDirectory) < 0 { try check(chdir("/"), "chdir /") }
        var capability: UInt = 0
        while true {
            if !Self.zygoteCapabilities.contains(capability) {
                if ps_prctl(PS_PR_CAPBSET_DROP, capability, 0, 0, 0) != 0 { break }
            }
            capability += 1
            if capability > 63 { break }
        }
        try check(ps_prctl(PS_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
        guard let filter = SeccompFilter.native?.allowing(["setns"]) else { throw SetupError("seccomp: unsupported architecture", code: 0) }
        try check(filter.install(), "install seccomp filter")
        let argv = config.command.map { strdup($0) } + [nil]
        let envp = config.environment.map { strdup($0) } + [nil]
        execve(config.command[0], argv, envp)
        throw SetupError("exec \(config.command[0])")
    }

    private func setLimit(_ resource: Int32, _ value: UInt64, _ name: String) throws(SetupError) {
        var limit = rlimit(rlim_cur: rlim_t(value), rlim_max: rlim_t(value))
        try check(setrlimit(__rlimit_resource_t(UInt32(resource)), &limit), "set \(name)")
    }

    private func dropPrivileges() throws(SetupError) {
        // Empty the bounding set while we still hold CAP_SETPCAP, so exec can never regain a capability.
        var capability: UInt = 0
        while ps_prctl(PS_PR_CAPBSET_DROP, capability, 0, 0, 0) == 0 { capability += 1 }
        try check(setgroups(0, nil), "setgroups")
        try check(setgid(config.gid), "setgid")
        try check(setuid(config.uid), "setuid")
        try check(ps_prctl(PS_PR_CAP_AMBIENT, UInt(PS_PR_CAP_AMBIENT_CLEAR_ALL), 0, 0, 0), "clear ambient capabilities")
    }
}
