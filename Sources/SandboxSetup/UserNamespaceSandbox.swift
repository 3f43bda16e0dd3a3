#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import PSShim

/// Builds a sandbox of the import cache: one whose namespaces belong to a zygote's user namespace, so the zygote
/// (root there, unprivileged on the host) can move a forked child into it, and no other zygote can.
///
/// 1. As host root, in a private mount namespace: build the root tree (binds need host root to read the state
///    directory; nothing in a user namespace could).
/// 2. Join the owner zygote's user and pid namespaces (fds 6 and 7), or stay in the host's.
/// 3. Optionally create a new, nested user namespace (a new zygote's), mapping only its own id ranges.
/// 4. Fork; the child unshares mount (a copy of step 1's), ipc, uts, net and pid namespaces, all owned by the
///    current user namespace, and forks the sandbox's pid 1, which mounts `/proc`, pivots and then either reports
///    the namespaces to the worker (`hold`) or starts a root zygote (`zygote`), and reaps orphans until killed.
///
/// Fd 5 is the report socket: pid 1 sends the sandbox's user, mnt, ipc, uts, net and pid namespaces over it.
enum UserNamespaceSandbox {
    static let reportFD: Int32 = 5
    static let ownerUserNamespaceFD: Int32 = 6
    static let ownerPidNamespaceFD: Int32 = 7

    static func run(_ config: SandboxConfiguration, _ setup: SandboxConfiguration.UserNamespaceSetup) throws(SetupError) -> Never {
        // No supplementary groups from here on: a user namespace would show host root's groups as nobody's.
        try check(setgroups(0, nil), "setgroups")
        try check(ps_unshare(PS_CLONE_NEWNS), "unshare mount namespace")
        try RootFilesystem(config: config).prepareTree()
        if setup.joinOwner {
            try check(ps_setns(ownerUserNamespaceFD, PS_CLONE_NEWUSER), "join the zygote's user namespace")
            try becomeNamespaceRoot()
            try check(ps_setns(ownerPidNamespaceFD, PS_CLONE_NEWPID), "join the zygote's pid namespace")
        }
        close(ownerUserNamespaceFD)
        close(ownerPidNamespaceFD)
        let child: pid_t
        if setup.newMappings.isEmpty {
            child = ps_fork()
            if child < 0 { throw SetupError("fork") }
            if child == 0 { createNamespaces(config, setup) }
        } else {
            child = try forkIntoNewUserNamespace(setup) { createNamespaces(config, setup) }
        }
        close(reportFD)
        close(SandboxHelper.runtimeSocketFD)
        close(SandboxHelper.statusFD)
        exit(SandboxHelper.waitForExit(of: child))
    }

    /// Forks a child that unshares a user namespace; writes its id maps from here (the parent namespace, as the
    /// kernel requires for nested ones) and lets it continue as that namespace's root.
    private static func forkIntoNewUserNamespace(_ setup: SandboxConfiguration.UserNamespaceSetup, then body: () -> Never)
        throws(SetupError) -> pid_t {
        var toChild: [Int32] = [0, 0]
        var toParent: [Int32] = [0, 0]
        try check(ps_pipe_cloexec(&toChild), "pipe")
        try check(ps_pipe_cloexec(&toParent), "pipe")
        let child = ps_fork()
        if child < 0 { throw SetupError("fork") }
        if child == 0 {
            close(toChild[1])
            close(toParent[0])
            if ps_unshare(PS_CLONE_NEWUSER) != 0 { SandboxHelper.fail("\(SetupError("unshare user namespace"))") }
            // Our /proc files belong to host root unless we are dumpable, and the parent, root of a zygote's user
            // namespace, could then not write our maps. Dumpable only until they are written.
            _ = ps_prctl(PS_PR_SET_DUMPABLE, 1, 0, 0, 0)
            var byte: UInt8 = 1
            _ = write(toParent[1], &byte, 1)
            guard read(toChild[0], &byte, 1) == 1 else { _exit(1) }
            _ = ps_prctl(PS_PR_SET_DUMPABLE, 0, 0, 0, 0)
            close(toChild[0])
            close(toParent[1])
            do {
                try becomeNamespaceRoot()
            } catch {
                SandboxHelper.fail("\(error)")
            }
            body()
        }
        close(toChild[0])
        close(toParent[1])
        var byte: UInt8 = 0
        guard read(toParent[0], &byte, 1) == 1 else { throw SetupError("new user namespace", code: 0) }
        // setgroups must be denied before gid_map is written; each write must succeed as one.
        try writeText("deny", to: "/proc/\(child)/setgroups")
        try writeText(setup.mapText, to: "/proc/\(child)/uid_map")
        try writeText(setup.mapText, to: "/proc/\(child)/gid_map")
        _ = write(toChild[1], &byte, 1)
        close(toChild[1])
        close(toParent[0])
        return child
    }

    /// Until it switches to ids mapped in its user namespace, a process keeps unmapped host ids and cannot create files.
    private static func becomeNamespaceRoot() throws(SetupError) {
        try check(ps_setresgid(0), "setgid 0 in the user namespace")
        try check(ps_setresuid(0), "setuid 0 in the user namespace")
    }

    /// In the (owner's or new) user namespace: the sandbox's own namespaces, then its pid 1.
    private static func createNamespaces(_ config: SandboxConfiguration, _ setup: SandboxConfiguration.UserNamespaceSetup) -> Never {
        let flags = PS_CLONE_NEWNS | PS_CLONE_NEWIPC | PS_CLONE_NEWUTS | PS_CLONE_NEWNET | PS_CLONE_NEWPID
        if ps_unshare(Int32(flags)) != 0 { SandboxHelper.fail("\(SetupError("unshare sandbox namespaces"))") }
        let initPID = ps_fork()
        if initPID < 0 { SandboxHelper.fail("\(SetupError("fork sandbox init"))") }
        if initPID == 0 { sandboxInit(config, setup) }
        close(reportFD)
        close(SandboxHelper.runtimeSocketFD)
        close(SandboxHelper.statusFD)
        exit(SandboxHelper.waitForExit(of: initPID))
    }

    private static func sandboxInit(_ config: SandboxConfiguration, _ setup: SandboxConfiguration.UserNamespaceSetup) -> Never {
        _ = ps_prctl(PS_PR_SET_PDEATHSIG, UInt(SIGKILL), 0, 0, 0)
        SandboxHelper.bringUpLoopback()
        do {
            try RootFilesystem(config: config).enter(rebind: true)
            try reportNamespaces()
        } catch {
            SandboxHelper.fail("\(error)")
        }
        // Block SIGCHLD before any child exists, so none is missed between reaping and waiting.
        var childSignals = sigset_t()
        sigemptyset(&childSignals)
        sigaddset(&childSignals, SIGCHLD)
        sigprocmask(SIG_BLOCK, &childSignals, nil)
        if setup.occupant == .zygote {
            let zygote = ps_fork()
            if zygote < 0 { SandboxHelper.fail("\(SetupError("fork zygote"))") }
            if zygote == 0 {
                sigprocmask(SIG_UNBLOCK, &childSignals, nil)
                do {
                    try HandlerProcess(config: config).execAsNamespaceRoot(statusFD: SandboxHelper.statusFD)
                } catch {
                    SandboxHelper.fail("\(error)")
                }
            }
        }
        close(SandboxHelper.runtimeSocketFD)
        close(SandboxHelper.statusFD)
        // Pid 1 of a namespace that outlives its occupant: handlers forked from a zygote live in child pid
        // namespaces and die with this one, so it stays until the worker kills the sandbox's cgroup.
        while true {
            var status: Int32 = 0
            while waitpid(-1, &status, WNOHANG) > 0 {}
            var info = siginfo_t()
            _ = sigwaitinfo(&childSignals, &info)
        }
    }

    /// Sends this process's user, mnt, ipc, uts, net and pid namespaces to the worker.
    private static func reportNamespaces() throws(SetupError) {
        var fds: [Int32] = []
        defer { fds.forEach { close($0) } }
        for name in ["user", "mnt", "ipc", "uts", "net", "pid"] {
            let fd = open("/proc/self/ns/\(name)", O_RDONLY | O_CLOEXEC)
            if fd < 0 { throw SetupError("open /proc/self/ns/\(name)") }
            fds.append(fd)
        }
        var message = Array(#"{"namespaces":6}"#.utf8)
        let sent = message.withUnsafeMutableBytes { bytes in
            ps_send_fds(reportFD, bytes.baseAddress, UInt(bytes.count), fds, Int32(fds.count))
        }
        if sent < 0 { throw SetupError("report namespaces") }
        close(reportFD)
    }
}
