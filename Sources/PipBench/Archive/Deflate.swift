import CompressNIO
import NIOCore

/// Raw deflate (no zlib or gzip header), the form zip entries use.
enum Deflate {
    static func compress(_ bytes: [UInt8]) throws -> [UInt8] {
        var input = ByteBuffer(bytes: bytes)
        let output = try input.compress(with: .deflate())
        return Array(output.readableBytesView)
    }

    static func decompress(_ bytes: [UInt8], expectedSize: Int) throws -> [UInt8] {
        var input = ByteBuffer(bytes: bytes)
        let output = try input.decompress(with: .deflate(), maxSize: Swift.max(expectedSize, 64))
        return Array(output.readableBytesView)
    }

    static func gunzip(_ bytes: [UInt8], maxSize: Int = 1 << 30) throws -> [UInt8] {
        var input = ByteBuffer(bytes: bytes)
        let output = try input.decompress(with: .gzip(), maxSize: maxSize)
        return Array(output.readableBytesView)
    }
}
