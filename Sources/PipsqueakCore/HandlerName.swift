/// A handler name: `[A-Za-z0-9_-]{1,64}`.
public struct HandlerName: Hashable, Sendable, CustomStringConvertible, Comparable {
    public let value: String

    public init(_ value: String) throws(PipsqueakError) {
        guard Self.isValid(value) else {
            throw PipsqueakError(.invalidName, "handler names match [A-Za-z0-9_-]{1,64}; got '\(value.prefix(80))'")
        }
        self.value = value
    }

    public static func isValid(_ value: String) -> Bool {
        let bytes = value.utf8
        guard (1...64).contains(bytes.count) else { return false }
        return bytes.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x5F || byte == 0x2D
        }
    }

    public var description: String { value }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.value < rhs.value }
}
