import Foundation
import NIOCore
import PipsqueakCore
import Synchronization

/// One running handler instance: a container with a Python runtime that has loaded the handler.
public final class Sandbox: Sendable {
    public let id: String
    public let handler: String
    public let cgroup: Cgroup
    let helperPID: pid_t
    private let statusPipe: Int32
    private let channel: RuntimeChannel
    private let rootDirectory: String
    private let state = Mutex(State())

    private struct State {
        var exitCode: Int32?
        var destroyed = false
        var origin = StartKind.fresh
        var destroyHooks: [@Sendable () async -> Void] = []
    }

    /// Runs `hook` once the sandbox is destroyed (the import cache counts instances forked from each zygote).
    public func onDestroy(_ hook: @escaping @Sendable () async -> Void) {
        state.withLock { $0.destroyHooks.append(hook) }
    }

    /// How this instance came to be (`fresh`, `import`, or `install` when packages were installed first).
    public var origin: StartKind {
        get { state.withLock { $0.origin } }
        set { state.withLock { $0.origin = newValue } }
    }

    /// Distributions mounted into this sandbox; never removed from the store while it lives.
    public let packages: [PackageRef]
    /// Whether the runtime was forked from a zygote: then the zygote reaps it and reports its exit status in an
    /// `X` frame, and the helper process lives until the sandbox is destroyed.
    let forked: Bool

    init(id: String, handler: String, cgroup: Cgroup, helperPID: pid_t, statusPipe: Int32, channel: RuntimeChannel,
         rootDirectory: String, packages: [PackageRef] = [], forked: Bool = false) {
        self.id = id
        self.packages = packages
        self.forked = forked
        self.handler = handler
        self.cgroup = cgroup
        self.helperPID = helperPID
        self.statusPipe = statusPipe
        self.channel = channel
        self.rootDirectory = rootDirectory
    }

    /// Waits for the runtime's ready frame; a handler that fails to load is reported as `handlerError`.
    /// A runtime forked from a zygote first needs the go-ahead (`G`), once it is in its cgroup.
    func waitUntilReady(timeoutSeconds: Double, sendingGo: Bool = false) async throws(PipsqueakError) {
        let frame: ByteBuffer
        do {
            frame = try await channel.call(sendingGo ? ByteBuffer(string: "G") : nil, timeout: .milliseconds(Int64(timeoutSeconds * 1000)))
        } catch RuntimeChannel.Failure.timedOut {
            throw PipsqueakError(.timeout, "handler \(handler) did not finish loading within \(timeoutSeconds) s")
        } catch {
            throw await deathError(during: "start")
        }
        switch frame.getInteger(at: frame.readerIndex, as: UInt8.self) {
        case UInt8(ascii: "K"):
            return
        case UInt8(ascii: "X"):
            throw await deathError(during: "start", reported: Self.exitStatus(frame))
        case UInt8(ascii: "I"):
            let failure = Self.decodeFailure(frame)
            throw PipsqueakError(.handlerError, "handler \(handler) failed to load: \(failure.type): \(failure.message)",
                                 details: ["exception": failure.type, "traceback": failure.traceback])
        default:
            throw PipsqueakError(.badResponse, "runtime sent an unexpected frame while starting")
        }
    }

    /// Runs one event through the handler. Throws `timeout` (the caller must destroy the sandbox),
    /// `outOfMemory` or `handlerCrashed` when the instance died.
    public func invoke(event: ByteBuffer, requestID: String, timeoutSeconds: Double) async throws(PipsqueakError) -> InvocationOutcome {
        let timeoutMS = Int64(timeoutSeconds * 1000)
        var frame = ByteBufferAllocator().buffer(capacity: event.readableBytes + 64)
        frame.writeInteger(UInt8(ascii: "R"))
        frame.writeString("{\"id\":\"\(requestID.filter { $0.isLetter || $0.isNumber || $0 == "-" })\",\"timeout_ms\":\(timeoutMS)}\n")
        frame.writeImmutableBuffer(event)
        let reply: ByteBuffer
        do {
            reply = try await channel.call(frame, timeout: .milliseconds(timeoutMS))
        } catch RuntimeChannel.Failure.timedOut {
            throw PipsqueakError(.timeout, "handler \(handler) did not answer within \(timeoutSeconds) s; its instance was killed")
        } catch {
            throw await deathError(during: "invocation")
        }
        var payload = reply
        let kind = payload.readInteger(as: UInt8.self)
        switch kind {
        case UInt8(ascii: "O"):
            return .result(Array(payload.readableBytesView))
        case UInt8(ascii: "E"):
            return .raised(Self.decodeFailure(reply))
        case UInt8(ascii: "X"):
            throw await deathError(during: "invocation", reported: Self.exitStatus(reply))
        default:
            throw PipsqueakError(.badResponse, "runtime sent an unexpected frame")
        }
    }

    /// The host pid of the runtime (pid 2 of the sandbox's pid namespace), if it still runs.
    public func runtimeHostPID() -> pid_t? {
        for pid in cgroup.processes() {
            guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
                  let line = status.split(separator: "\n").first(where: { $0.hasPrefix("NSpid:") }) else { continue }
            let levels = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst()
            if levels.count > 1, levels.last == "2" { return pid }
        }
        return nil
    }

    /// Memory charged to this sandbox's cgroup.
    public func memoryUsage() -> Int64 { cgroup.memoryUsage() ?? 0 }

    /// Freezes the sandbox's processes (the kernel may take a while: runs on a blocking-work thread).
    public func freeze() async throws(PipsqueakError) {
        let cgroup = self.cgroup
        try await BlockingWork.run { () -> Result<Void, PipsqueakError> in Result { () throws(PipsqueakError) in try cgroup.freeze() } }.get()
    }

    /// Thawing is one write that does not wait, so it stays on the caller's thread (the warm path).
    public func thaw() async throws(PipsqueakError) { try cgroup.thaw() }

    /// Kills every process of the sandbox and removes its cgroup and root directory. Idempotent.
    public func destroy() async {
        let first = state.withLock { state in
            defer { state.destroyed = true }
            return !state.destroyed
        }
        guard first else { return }
        channel.close()
        let cgroup = self.cgroup
        await BlockingWork.run { try? cgroup.killAll() }
        _ = await exitCode()
        await BlockingWork.run { try? cgroup.remove() }
        close(statusPipe)
        rmdir(rootDirectory)
        for hook in state.withLock({ $0.destroyHooks }) { await hook() }
    }

    private func exitCode() async -> Int32? {
        if let code = state.withLock({ $0.exitCode }) { return code }
        let code = await HelperProcess.reap(helperPID)
        state.withLock { $0.exitCode = code }
        return code
    }

    /// Explains why the runtime went away: setup failure, OOM kill, or a crash.
    private func deathError(during phase: String, reported: Int32? = nil) async -> PipsqueakError {
        // A forked runtime's helper outlives it (it holds the sandbox); its zygote reports the status instead.
        let code = forked ? reported : await exitCode()
        let status = forked ? "" : HelperProcess.readStatus(statusPipe)
        if cgroup.oomKills() > 0 {
            return PipsqueakError(.outOfMemory, "handler \(handler) ran out of memory during \(phase) and was killed (memory limit reached)")
        }
        if !status.isEmpty {
            return PipsqueakError(.sandboxFailed, "sandbox for \(handler) failed: \(status)")
        }
        let how = code.map { $0 > 128 ? "was killed by signal \($0 - 128)" : "exited with status \($0)" } ?? "vanished"
        return PipsqueakError(.handlerCrashed, "handler \(handler) process \(how) during \(phase)")
    }

    /// The status in a zygote's `X` frame.
    static func exitStatus(_ frame: ByteBuffer) -> Int32? {
        var payload = frame
        payload.moveReaderIndex(forwardBy: 1)
        let object = try? JSONSerialization.jsonObject(with: Data(payload.readableBytesView)) as? [String: Any]
        return (object?["status"] as? Int).flatMap { Int32(exactly: $0) }
    }

    static func decodeFailure(_ frame: ByteBuffer) -> HandlerFailure {
        var payload = frame
        payload.moveReaderIndex(forwardBy: 1)
        let data = Data(payload.readableBytesView)
        return (try? JSONDecoder().decode(HandlerFailure.self, from: data))
            ?? HandlerFailure(type: "Unknown", message: String(decoding: data, as: UTF8.self), traceback: "")
    }
}
