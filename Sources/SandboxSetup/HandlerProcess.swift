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
