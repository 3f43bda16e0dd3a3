#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A failed step while building a sandbox, with the errno it failed with.
public struct SetupError: Error, CustomStringConvertible {
    public var step: String
    public var code: Int32

    public init(_ step: String, code: Int32 = errno) {
        self.step = step
        self.code = code
    }

    public var description: String {
        guard code != 0, let message = strerror(code) else { return step }
        return "\(step): \(String(cString: message))"
    }
}

@discardableResult
func check(_ result: Int32, _ step: @autoclosure () -> String) throws(SetupError) -> Int32 {
    if result < 0 { throw SetupError(step()) }
    return result
}
