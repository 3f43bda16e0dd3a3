/// Writes a zip archive in memory (store or deflate per entry), with fixed timestamps
/// so that the same entries always give the same bytes.
struct ZipWriter {
    private var body: [UInt8] = []
    private var central: [UInt8] = []
    private var count = 0

    /// Adds a file; it is deflated unless deflating would not make it smaller.
    mutating func add(path: String, contents: [UInt8], compress: Bool = true) throws {
        let crc = CRC32.checksum(contents)
        var method: UInt16 = 0
        var stored = contents
        if compress, contents.count > 64 {
            let deflated = try Deflate.compress(contents)
            if deflated.count < contents.count {
                method = 8
                stored = deflated
            }
        }
        let name = Array(path.utf8)
        let offset = UInt32(body.count)
        // Local file header.
        body.le32(0x0403_4B50); body.le16(20); body.le16(0x0800); body.le16(method)
        body.le16(0); body.le16(0x21)  // 1980-01-01 00:00
        body.le32(crc); body.le32(UInt32(stored.count)); body.le32(UInt32(contents.count))
        body.le16(UInt16(name.count)); body.le16(0)
        body += name
        body += stored
        // Central directory record.
        central.le32(0x0201_4B50); central.le16(0x0314); central.le16(20); central.le16(0x0800); central.le16(method)
        central.le16(0); central.le16(0x21)
        central.le32(crc); central.le32(UInt32(stored.count)); central.le32(UInt32(contents.count))
        central.le16(UInt16(name.count)); central.le16(0); central.le16(0); central.le16(0); central.le16(0)
        central.le32(0o100644 << 16)
        central.le32(offset)
        central += name
        count += 1
    }

    /// The finished archive.
    func finish() -> [UInt8] {
        var out = body
        let centralOffset = UInt32(out.count)
        out += central
        out.le32(0x0605_4B50); out.le16(0); out.le16(0)
        out.le16(UInt16(count)); out.le16(UInt16(count))
        out.le32(UInt32(central.count)); out.le32(centralOffset); out.le16(0)
        return out
    }
}

extension Array where Element == UInt8 {
    mutating func le16(_ v: UInt16) {
        append(UInt8(v & 0xFF)); append(UInt8(v >> 8))
    }

    mutating func le32(_ v: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { append(UInt8((v >> UInt32(shift)) & 0xFF)) }
    }

    func le16(at i: Int) -> Int { Int(self[i]) | Int(self[i + 1]) << 8 }
    func le32(at i: Int) -> Int { le16(at: i) | le16(at: i + 2) << 16 }
}
