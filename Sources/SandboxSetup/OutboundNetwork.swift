#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import PSShim

/// A private network namespace with outbound access through `slirp4netns`, and nothing else.
///
/// The namespace is owned by a fresh user namespace that maps only root to the unprivileged network uid, so
/// slirp4netns can run as that uid with no capability on the host: it joins the user namespace to create its tap
/// device, then sandboxes itself (`--enable-sandbox --enable-seccomp`). Its sockets live in the host's network
/// namespace and carry the network uid, which the worker's nftables rules stop from reaching any host-local
/// address or the link-local metadata service. slirp4netns is forked from the helper after it joined the sandbox
/// cgroup, so it is limited, accounted and killed with the sandbox, and it exits when the sandbox's init does.
enum OutboundNetwork {
    /// The address slirp4netns answers DNS on inside the namespace.
    static let dnsAddress = "10.0.2.3"
    static let tunDevice: (major: UInt32, minor: UInt32) = (10, 200)

    /// Creates the namespace, starts slirp4netns on it and joins it. Returns the write end of slirp's exit pipe:
    /// the sandbox init keeps it open, and slirp4netns exits once every copy is closed.
    static func join(uid: UInt32, slirp: String) throws(SetupError) -> Int32 {
        var holderReady: [Int32] = [0, 0]
        var holderRelease: [Int32] = [0, 0]
        try check(ps_pipe_cloexec(&holderReady), "pipe")
        try check(ps_pipe_cloexec(&holderRelease), "pipe")
        let holder = ps_fork()
        if holder < 0 { throw SetupError("fork network namespace holder") }
        if holder == 0 {
            // The holder must not keep the release pipe's write end open, or it would wait for itself.
            close(holderReady[0])
            close(holderRelease[1])
            holdNamespaces(uid: uid, ready: holderReady[1], release: holderRelease[0])
        }
        close(holderReady[1])
        close(holderRelease[0])
        defer {
            close(holderRelease[1])   // lets the holder exit
            var status: Int32 = 0
            _ = waitpid(holder, &status, 0)
        }
        try awaitByte(holderReady[0], "network namespace holder")
        close(holderReady[0])
        try writeText("deny", to: "/proc/\(holder)/setgroups")
        try writeText("0 \(uid) 1\n", to: "/proc/\(holder)/uid_map")
        try writeText("0 \(uid) 1\n", to: "/proc/\(holder)/gid_map")

        var slirpReady: [Int32] = [0, 0]
        var slirpExit: [Int32] = [0, 0]
        try check(ps_pipe_cloexec(&slirpReady), "pipe")
        try check(ps_pipe_cloexec(&slirpExit), "pipe")
        let slirpPID = ps_fork()
        if slirpPID < 0 { throw SetupError("fork slirp4netns") }
        if slirpPID == 0 {
            runSlirp(slirp, uid: uid, target: holder, ready: slirpReady[1], exit: slirpExit[0])
        }
        close(slirpReady[1])
        close(slirpExit[0])
        do {
            try awaitByte(slirpReady[0], "slirp4netns (is it installed at \(slirp)?)")
        } catch {
            kill(slirpPID, SIGKILL)
            throw error
        }
        close(slirpReady[0])

        let namespace = open("/proc/\(holder)/ns/net", O_RDONLY | O_CLOEXEC)
        if namespace < 0 { throw SetupError("open network namespace") }
        defer { close(namespace) }
        try check(ps_setns(namespace, PS_CLONE_NEWNET), "join network namespace")
        return slirpExit[1]
    }

    /// The holder process: creates the user and network namespaces as the network uid, then waits.
    private static func holdNamespaces(uid: UInt32, ready: Int32, release: Int32) -> Never {
        guard setgroups(0, nil) == 0, ps_setresgid(uid) == 0, ps_setresuid(uid) == 0 else { _exit(1) }
        // Readable /proc/PID/ns for slirp4netns, which runs as the same uid.
        _ = ps_prctl(PS_PR_SET_DUMPABLE, 1, 0, 0, 0)
        guard ps_unshare(PS_CLONE_NEWUSER | PS_CLONE_NEWNET) == 0 else { _exit(2) }
        var byte: UInt8 = 1
        _ = write(ready, &byte, 1)
        _ = read(release, &byte, 1)
        _exit(0)
    }

    /// The slirp4netns process: a tun device node it may open, no privileges, then exec.
    private static func runSlirp(_ slirp: String, uid: UInt32, target: pid_t, ready: Int32, exit: Int32) -> Never {
        func die(_ step: String) -> Never {
            SandboxHelper.fail("slirp4netns: \(SetupError(step))")
        }
        // /dev/net/tun is often root-only; give slirp a node of its own in a private mount namespace.
        if ps_unshare(PS_CLONE_NEWNS) != 0 { die("unshare mount namespace") }
        if mount(nil, "/", nil, UInt(MS_REC | MS_SLAVE), nil) != 0 { die("make / a slave mount") }
        if mkdir("/dev/net", 0o755) != 0 && errno != EEXIST { die("mkdir /dev/net") }
        if mount("tmpfs", "/dev/net", "tmpfs", UInt(MS_NOSUID | MS_NOEXEC), "size=4k,mode=0755") != 0 { die("mount /dev/net") }
        let device = ps_makedev(tunDevice.major, tunDevice.minor)
        if mknod("/dev/net/tun", S_IFCHR | 0o600, device) != 0 { die("mknod /dev/net/tun") }
        if chown("/dev/net/tun", uid, uid) != 0 { die("chown /dev/net/tun") }
        // Only the two pipes survive: 3 signals readiness, 4 ends slirp when the sandbox init exits.
        if dup2(ready, 3) < 0 || dup2(exit, 4) < 0 { die("dup2") }
        let null = open("/dev/null", O_RDWR)
        if null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0 { die("redirect to /dev/null") }
        _ = ps_close_range(5, UInt32.max, 0)
        if setgroups(0, nil) != 0 || ps_setresgid(uid) != 0 || ps_setresuid(uid) != 0 { die("drop to the network uid") }
        if ps_prctl(PS_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 { die("no_new_privs") }
        let arguments = [slirp, "--configure", "--mtu=65520", "--disable-host-loopback", "--enable-sandbox", "--enable-seccomp",
                         "--ready-fd=3", "--exit-fd=4", String(target), "tap0"]
        let argv = arguments.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = [nil]
        execve(slirp, argv, envp)
        die("exec \(slirp)")
    }

    private static func awaitByte(_ fd: Int32, _ what: String) throws(SetupError) {
        var byte: UInt8 = 0
        while true {
            let count = read(fd, &byte, 1)
            if count == 1 { return }
            if count < 0 && errno == EINTR { continue }
            throw SetupError("\(what) failed to start", code: 0)
        }
    }
}
