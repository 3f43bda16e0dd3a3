import PipsqueakCore

/// What the handler cache needs of an instance; the worker's sandboxes are the real ones, tests use fakes.
/// `freeze`, `thaw` and `destroy` may block in the kernel, so implementations run them off the cooperative pool.
public protocol CacheableInstance: AnyObject, Sendable {
    var id: String { get }
    /// How the instance came to be: a fresh interpreter, or a fork of a zygote (`import`).
    var origin: StartKind { get }
    func freeze() async throws(PipsqueakError)
    func thaw() async throws(PipsqueakError)
    /// Memory charged to the instance, in bytes (a cheap read).
    func memoryUsage() -> Int64
    func destroy() async
}

extension CacheableInstance {
    public var origin: StartKind { .fresh }
}
