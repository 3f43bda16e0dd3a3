import Foundation
import PipsqueakCore
import PSShim
import SandboxSetup

/// Spawns the `pipsqueak-sandbox` helper with its fixed file descriptors, and reaps it.
enum HelperProcess {
    struct Spawned {
        var pid: pid_t
        /// The worker's end of the runtime socket.
        var socket: Int32
        /// Read end of the helper's status pipe (non-blocking).
        var statusPipe: Int32
    }

    static let maxLogBytes: Int64 = 8 << 20

    /// Starts the helper. `socketType` is the runtime socket's (a zygote's control socket is SOCK_SEQPACKET);
    /// `extraDescriptors` are passed as fds `key` (from descriptors the caller still owns).
    static func spawn(helper: String, arguments: [String], logPath: String, socketType: Int32 = Int32(SOCK_STREAM.rawValue),
                      extraDescriptors: [Int32: Int32] = [:]) throws(PipsqueakError) -> Spawned {
        var sockets: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, socketType | Int32(SOCK_CLOEXEC.rawValue), 0, &sockets) == 0 else {
            throw failure("socketpair")
        }
        var status: [Int32] = [0, 0]
        guard ps_pipe_cloexec(&status) == 0 else {
            close(sockets[0]); close(sockets[1])
            throw failure("pipe2")
        }
        _ = fcntl(status[0], F_SETFL, O_NONBLOCK)
        let log = openLog(logPath)
        defer {
            close(sockets[1])
            close(status[1])
            if log >= 0 { close(log) }
        }

        // Every source is first duplicated above any target number, so no dup2 below can clobber a later source.
        var sources: [(target: Int32, source: Int32)] = [(SandboxHelper.runtimeSocketFD, sockets[1]), (SandboxHelper.statusFD, status[1])]
        if log >= 0 { sources += [(1, log), (2, log)] }
        sources += extraDescriptors.sorted(by: { $0.key < $1.key }).map { ($0.key, $0.value) }
        let lifted = sources.map { (target: $0.target, source: fcntl($0.source, F_DUPFD_CLOEXEC, 64)) }
        defer { for item in lifted where item.source >= 0 { close(item.source) } }
        guard lifted.allSatisfy({ $0.source >= 0 }) else {
            close(sockets[0]); close(status[0])
            throw failure("dup descriptors for the helper")
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if log < 0 {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        }
        for item in lifted { posix_spawn_file_actions_adddup2(&actions, item.source, item.target) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        let argv = ([helper] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var environment: [UnsafeMutablePointer<CChar>?] = [nil]
        var pid: pid_t = 0
        let result = posix_spawn(&pid, helper, &actions, &attributes, argv, &environment)
        guard result == 0 else {
            close(sockets[0]); close(status[0])
            throw PipsqueakError(.sandboxFailed, "cannot start sandbox helper \(helper): \(String(cString: strerror(result)))")
        }
        return Spawned(pid: pid, socket: sockets[0], statusPipe: status[0])
    }

    /// Waits for the helper to exit and returns its exit code (128+signal when killed), or nil if it never did.
    static func reap(_ pid: pid_t, timeoutSeconds: Double = 10) async -> Int32? {
        let deadline = ContinuousClock.now + .milliseconds(Int(timeoutSeconds * 1000))
        var pause = Duration.microseconds(200)
        while true {
            var status: Int32 = 0
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid { return SandboxHelper.exitCode(status) }
            if reaped < 0 { return nil }
            if ContinuousClock.now > deadline { return nil }
            try? await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(20))
        }
    }

    /// Everything the helper reported on its status pipe.
    static func readStatus(_ fd: Int32) -> String {
        String(decoding: CgroupFile.readAll(fd), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func openLog(_ path: String) -> Int32 {
        let directory = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int64, size > maxLogBytes {
            _ = rename(path, path + ".1")
        }
        return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
    }

    private static func failure(_ call: String) -> PipsqueakError {
        PipsqueakError(.sandboxFailed, "\(call): \(String(cString: strerror(errno)))")
    }
}
