/// Reads a zip archive's central directory and, on demand, its entries.
struct ZipReader {
    /// One entry as the central directory describes it.
    struct Entry: Sendable {
        var path: String
        var method: Int
        var compressedSize: Int
        var uncompressedSize: Int
        var localHeaderOffset: Int
    }

    let bytes: [UInt8]
    let entries: [Entry]

    init(_ bytes: [UInt8]) throws {
        self.bytes = bytes
        guard bytes.count >= 22 else { throw PipBenchError.invalidArchive("too short for a zip") }
        var end = bytes.count - 22
        let lowest = Swift.max(0, bytes.count - 22 - 65_535)
        while end >= lowest, bytes.le32(at: end) != 0x0605_4B50 { end -= 1 }
        guard end >= lowest else { throw PipBenchError.invalidArchive("no end of central directory") }
        let total = bytes.le16(at: end + 10)
        var cursor = bytes.le32(at: end + 16)
        var entries: [Entry] = []
        for _ in 0..<total {
            guard cursor + 46 <= bytes.count, bytes.le32(at: cursor) == 0x0201_4B50 else {
                throw PipBenchError.invalidArchive("bad central directory record")
            }
            let nameLength = bytes.le16(at: cursor + 28)
            let extra = bytes.le16(at: cursor + 30), comment = bytes.le16(at: cursor + 32)
            guard cursor + 46 + nameLength <= bytes.count else { throw PipBenchError.invalidArchive("truncated name") }
            entries.append(Entry(
                path: String(decoding: bytes[(cursor + 46)..<(cursor + 46 + nameLength)], as: UTF8.self),
                method: bytes.le16(at: cursor + 10),
                compressedSize: bytes.le32(at: cursor + 20),
                uncompressedSize: bytes.le32(at: cursor + 24),
                localHeaderOffset: bytes.le32(at: cursor + 42)))
            cursor += 46 + nameLength + extra + comment
        }
        self.entries = entries
    }

    /// The uncompressed contents of `entry`.
    func contents(of entry: Entry) throws -> [UInt8] {
        let h = entry.localHeaderOffset
        guard h + 30 <= bytes.count, bytes.le32(at: h) == 0x0403_4B50 else {
            throw PipBenchError.invalidArchive("bad local header for \(entry.path)")
        }
        let start = h + 30 + bytes.le16(at: h + 26) + bytes.le16(at: h + 28)
        guard start + entry.compressedSize <= bytes.count else { throw PipBenchError.invalidArchive("truncated \(entry.path)") }
        let data = Array(bytes[start..<(start + entry.compressedSize)])
        switch entry.method {
        case 0: return data
        case 8: return try Deflate.decompress(data, expectedSize: entry.uncompressedSize)
        default: throw PipBenchError.invalidArchive("unsupported compression method \(entry.method)")
        }
    }

    /// The contents of the entry at `path`, if there is one.
    func contents(atPath path: String) throws -> [UInt8]? {
        guard let entry = entries.first(where: { $0.path == path }) else { return nil }
        return try contents(of: entry)
    }
}
