import Foundation
import PipsqueakCore
import PSShim
import Synchronization

/// One end of a SOCK_SEQPACKET socket carrying JSON messages with descriptors (SCM_RIGHTS): a zygote's control
/// socket, or the report socket a sandbox's pid 1 sends its namespaces on. Calls block, so they run on the
/// blocking-work pool, one at a time.
final class ControlSocket: Sendable {
    let descriptor: OwnedDescriptor
    private let exclusive = Mutex(())

    init(_ fd: Int32) { descriptor = OwnedDescriptor(fd) }

    struct Message: @unchecked Sendable {
        var json: [String: Any]
        var descriptors: [Int32]
    }

    /// Sends `json` with `descriptors`, then waits up to `timeout` for the reply.
    func call(_ json: [String: Any], descriptors: [Int32] = [], timeout: Duration) async throws(PipsqueakError) -> Message {
        let payload: Data
        do {
            payload = try JSONSerialization.data(withJSONObject: json)
        } catch {
            throw PipsqueakError(.internalError, "cannot encode a zygote request: \(error)")
        }
        let sendable = (payload, descriptors)
        return try await run { () throws(PipsqueakError) -> Message in
            try self.send(sendable.0, sendable.1)
            return try self.receive(timeout: timeout)
        }
    }

    /// Waits up to `timeout` for the next message.
    func next(timeout: Duration) async throws(PipsqueakError) -> Message {
        try await run { () throws(PipsqueakError) -> Message in try self.receive(timeout: timeout) }
    }

    /// Sends without waiting for a reply.
    func post(_ json: [String: Any]) async throws(PipsqueakError) {
        let payload = (try? JSONSerialization.data(withJSONObject: json)) ?? Data()
        try await run { () throws(PipsqueakError) in try self.send(payload, []) }
    }

    private func run<T: Sendable>(_ body: @escaping @Sendable () throws(PipsqueakError) -> T) async throws(PipsqueakError) -> T {
        let result = await BlockingWork.run { () -> Result<T, PipsqueakError> in
            self.exclusive.withLock { _ in Result { () throws(PipsqueakError) in try body() } }
        }
        return try result.get()
    }

    private func send(_ payload: Data, _ descriptors: [Int32]) throws(PipsqueakError) {
        let sent = payload.withUnsafeBytes { bytes in
            ps_send_fds(descriptor.raw, bytes.baseAddress, UInt(bytes.count), descriptors, Int32(descriptors.count))
        }
        if sent < 0 { throw PipsqueakError(.sandboxFailed, "zygote control: send: \(String(cString: strerror(errno)))") }
    }

    private func receive(timeout: Duration) throws(PipsqueakError) -> Message {
        let fd = descriptor.raw
        let milliseconds = max(1, Int(timeout.nanoseconds / 1_000_000))
        var wait = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&wait, 1, Int32(clamping: milliseconds))
        if ready == 0 { throw PipsqueakError(.timeout, "zygote control: no answer within \(timeout)") }
        if ready < 0 { throw PipsqueakError(.sandboxFailed, "zygote control: poll: \(String(cString: strerror(errno)))") }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var fds = [Int32](repeating: -1, count: 16)
        var count: Int32 = 0
        let received = buffer.withUnsafeMutableBytes { bytes in
            ps_recv_fds(fd, bytes.baseAddress, UInt(bytes.count), &fds, 16, &count)
        }
        if received < 0 { throw PipsqueakError(.sandboxFailed, "zygote control: receive: \(String(cString: strerror(errno)))") }
        let descriptors = Array(fds.prefix(Int(count)))
        if received == 0 {
            descriptors.forEach { close($0) }
            throw PipsqueakError(.sandboxFailed, "zygote control: the other end closed")
        }
        guard let json = try? JSONSerialization.jsonObject(with: Data(buffer.prefix(received))) as? [String: Any] else {
            descriptors.forEach { close($0) }
            throw PipsqueakError(.badResponse, "zygote control: a message that is not a JSON object: \(String(decoding: buffer.prefix(min(received, 300)), as: UTF8.self))")
        }
        return Message(json: json, descriptors: descriptors)
    }
}
