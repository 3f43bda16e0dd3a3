import NIOCore
import NIOExtras
import NIOPosix
import PipsqueakCore

/// The worker's end of the Unix socket to the Python runtime in a sandbox.
///
/// Frames are length-prefixed; each call writes one frame and awaits the next frame the runtime sends.
public final class RuntimeChannel: Sendable {
    public enum Failure: Error, Sendable {
        case closed
        case timedOut
    }

    private let channel: any Channel

    private init(channel: any Channel) { self.channel = channel }

    /// Takes ownership of a connected stream socket.
    public static func connect(descriptor: Int32, group: any EventLoopGroup) async throws -> RuntimeChannel {
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(LengthFieldBasedFrameDecoder(lengthFieldBitLength: .fourBytes)))
                    try channel.pipeline.syncOperations.addHandler(RuntimeFrameHandler())
                }
            }
            .withConnectedSocket(descriptor).get()
        return RuntimeChannel(channel: channel)
    }

    /// Sends `frame` (kind byte plus payload; nil sends nothing) and returns the runtime's next frame.
    public func call(_ frame: ByteBuffer?, timeout: TimeAmount) async throws -> ByteBuffer {
        let eventLoop = channel.eventLoop
        let promise = eventLoop.makePromise(of: ByteBuffer.self)
        let timer = eventLoop.scheduleTask(in: timeout) { promise.fail(Failure.timedOut) }
        promise.futureResult.whenComplete { _ in timer.cancel() }
        channel.writeAndFlush(RuntimeFrameHandler.Call(frame: frame, promise: promise), promise: nil)
        return try await promise.futureResult.get()
    }

    public func close() {
        channel.close(promise: nil)
    }
}

/// Matches frames from the runtime to waiting calls, in order.
final class RuntimeFrameHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = Call
    typealias OutboundOut = ByteBuffer

    struct Call: Sendable {
        var frame: ByteBuffer?
        var promise: EventLoopPromise<ByteBuffer>
    }

    private var waiting = CircularBuffer<EventLoopPromise<ByteBuffer>>()
    private var isOpen = true

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let call = unwrapOutboundIn(data)
        guard isOpen else {
            call.promise.fail(RuntimeChannel.Failure.closed)
            return
        }
        waiting.append(call.promise)
        guard let frame = call.frame else { return }
        var buffer = context.channel.allocator.buffer(capacity: frame.readableBytes + 4)
        buffer.writeInteger(UInt32(frame.readableBytes))
        buffer.writeImmutableBuffer(frame)
        context.write(wrapOutboundOut(buffer), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        if let promise = waiting.popFirst() { promise.succeed(frame) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll()
        context.close(promise: nil)
    }

    private func failAll() {
        isOpen = false
        while let promise = waiting.popFirst() { promise.fail(RuntimeChannel.Failure.closed) }
    }
}
