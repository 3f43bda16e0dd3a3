#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import PSShim

/// The single-threaded pre-exec program, modelled on runc's nsexec and containerization's vmexec.
///
/// File descriptors: 0 is /dev/null, 1 and 2 the instance log, 3 the runtime socket, 4 the status pipe.
/// Steps: join the cgroups, unshare namespaces, fork. The child is pid 1 of the sandbox: it builds the root,
/// pivots, forks the handler process and reaps until that process exits. The parent waits and mirrors its status.
public enum SandboxHelper {
    public static let runtimeSocketFD: Int32 = 3
    public static let statusFD: Int32 = 4

    public static func main(arguments: [String]) -> Never {
        // Fds 5-7 are only used by user-namespace sandboxes (report socket, owner namespaces); close the rest.
        _ = ps_close_range(UInt32(UserNamespaceSandbox.ownerPidNamespaceFD + 1), UInt32.max, 0)
        let config: SandboxConfiguration
        do {
            config = try SandboxConfiguration.parse(arguments: arguments)
        } catch {
            fail("bad arguments: \(error)")
        }
        do {
            try run(config)
        } catch {
            fail("\(error)")
        }
    }

    private static func run(_ config: SandboxConfiguration) throws(SetupError) -> Never {
        let pid = getpid()
        for file in config.cgroupProcFiles {
            try writeText("\(pid)\n", to: file)
        }
        if let setup = config.userNamespace { try UserNamespaceSandbox.run(config, setup) }
        for fd in [UserNamespaceSandbox.reportFD, UserNamespaceSandbox.ownerUserNamespaceFD, UserNamespaceSandbox.ownerPidNamespaceFD] { close(fd) }
        // The init inherits the write end of slirp4netns's exit pipe; slirp exits when the init does.
        var slirpExit: Int32 = -1
        if config.network == .outbound { slirpExit = try OutboundNetwork.join(uid: config.networkUID, slirp: config.slirpPath) }
        var flags = PS_CLONE_NEWNS | PS_CLONE_NEWPID | PS_CLONE_NEWIPC | PS_CLONE_NEWUTS
        if config.network == .none { flags |= PS_CLONE_NEWNET }
        try check(ps_unshare(Int32(flags)), "unshare namespaces")
        let initPID = ps_fork()
        if initPID < 0 { throw SetupError("fork sandbox init") }
        if initPID == 0 { sandboxInit(config) }
        if slirpExit >= 0 { close(slirpExit) }
        close(runtimeSocketFD)
        close(statusFD)
        exit(waitForExit(of: initPID))
    }

    /// Pid 1 inside the sandbox.
    private static func sandboxInit(_ config: SandboxConfiguration) -> Never {
        _ = ps_prctl(PS_PR_SET_PDEATHSIG, UInt(SIGKILL), 0, 0, 0)
        if config.network != .host { bringUpLoopback() }
        do {
            try RootFilesystem(config: config).build()
        } catch {
            fail("\(error)")
        }
        let handlerPID = ps_fork()
        if handlerPID < 0 { fail("fork handler process: \(String(cString: strerror(errno)))") }
        if handlerPID == 0 {
            do {
                try HandlerProcess(config: config).exec(statusFD: statusFD)
            } catch {
                fail("\(error)")
            }
        }
        close(runtimeSocketFD)
        close(statusFD)
        // Reap orphans until the handler process itself exits; the pid namespace then dies with us.
        while true {
            var status: Int32 = 0
            let reaped = waitpid(-1, &status, 0)
            if reaped == handlerPID { exit(exitCode(status)) }
            if reaped < 0 && errno == ECHILD { exit(0) }
        }
    }

    static func waitForExit(of pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return 125 }
        }
        return exitCode(status)
    }

    /// A `waitpid` status as a shell would report it: the exit code, or 128 + the signal.
    public static func exitCode(_ status: Int32) -> Int32 {
        let signal = status & 0x7F
        return signal == 0 ? (status >> 8) & 0xFF : 128 + signal
    }

    /// Brings up `lo` in the new network namespace, so handlers may use loopback among their own processes.
    static func bringUpLoopback() {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { return }
        defer { close(fd) }
        var request = ifreq()
        withUnsafeMutableBytes(of: &request.ifr_ifrn.ifrn_name) { bytes in
            for (index, byte) in "lo".utf8.enumerated() { bytes[index] = byte }
        }
        if ioctl(fd, UInt(SIOCGIFFLAGS), &request) < 0 { return }
        request.ifr_ifru.ifru_flags |= Int16(IFF_UP)
        _ = ioctl(fd, UInt(SIOCSIFFLAGS), &request)
    }

    /// Reports a setup failure on the status pipe and stderr, then exits with 126.
    public static func fail(_ message: String) -> Never {
        var line = Array("error: \(message)\n".utf8)
        _ = line.withUnsafeMutableBytes { write(statusFD, $0.baseAddress, $0.count) }
        _ = line.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
        _exit(126)
    }
}
