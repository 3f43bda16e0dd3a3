import PipsqueakCore
import PipsqueakSandbox

/// What the handler cache needs of an instance; `Sandbox` is the real one, tests use fakes.
public protocol CacheableInstance: AnyObject, Sendable {
    var id: String { get }
    func freeze() throws(PipsqueakError)
    func thaw() throws(PipsqueakError)
    func memoryUsage() -> Int64
    func destroy() async
}

extension Sandbox: CacheableInstance {}

/// How an instance was obtained for a request (`X-Pipsqueak-Start`).
public enum StartKind: String, Sendable, Codable {
    case warm, `import`, fresh, install
}
