import Crypto
import Foundation

extension Sequence where Element == UInt8 {
    /// Lower-case hex SHA-256 of the bytes.
    public var sha256Hex: String {
        SHA256.hash(data: Array(self)).map { String(format: "%02x", $0) }.joined()
    }
}
