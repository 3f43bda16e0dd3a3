import CompressNIO
import NIOCore
import PipsqueakCore
import Testing

@Suite struct HandlerArchiveTests {
    @Test func roundTripsFiles() throws {
        let longPath = String(repeating: "d", count: 80) + "/" + String(repeating: "e", count: 60) + "/mod.py"
        let archive = try HandlerArchive.gzipTar(files: [("f.py", Array("def f(e): return e\n".utf8)), (longPath, [1, 2, 3])])
        let entries = try HandlerArchive.entries(gzipped: archive)
        #expect(entries.map(\.path).sorted() == ["f.py", longPath].sorted())
        #expect(entries.first { $0.path == "f.py" }?.contents == Array("def f(e): return e\n".utf8))
        #expect(entries.first { $0.path == longPath }?.contents == [1, 2, 3])
    }

    @Test func rejectsNonGzip() {
        #expect(throws: PipsqueakError.self) { try HandlerArchive.entries(gzipped: Array("hello".utf8)) }
    }

    @Test func rejectsPathTraversal() throws {
        let archive = try HandlerArchive.gzipTar(files: [("../escape.py", [1])])
        do {
            _ = try HandlerArchive.entries(gzipped: archive)
            Issue.record("expected traversal to be refused")
        } catch {
            #expect(error.code == .invalidArchive)
        }
    }

    @Test func rejectsSymlinks() throws {
        var tar = tarHeader(name: "link", type: "2", linkTarget: "/etc/passwd")
        tar += [UInt8](repeating: 0, count: 1024)
        var buffer = ByteBuffer(bytes: tar)
        let gzipped = Array(try buffer.compress(with: .gzip()).readableBytesView)
        #expect(throws: PipsqueakError.self) { try HandlerArchive.entries(gzipped: gzipped) }
    }

    @Test func boundsUncompressedSize() throws {
        var limits = HandlerArchive.Limits()
        limits.maxUncompressedBytes = 64 << 10
        let archive = try HandlerArchive.gzipTar(files: [("f.py", [UInt8](repeating: 0x41, count: 1 << 20))])
        do {
            _ = try HandlerArchive.entries(gzipped: archive, limits: limits)
            Issue.record("expected a size error")
        } catch {
            #expect(error.code == .payloadTooLarge)
        }
    }

    /// Regression: a size field of `-0000000001` with a valid checksum trapped the worker (issue 12).
    @Test(arguments: ["-0000000001", "-1", "+0000000001", "0000000009", "777777777777"])
    func refusesMalformedSizeFields(_ size: String) throws {
        var tar = tarHeader(name: "f.py", type: "0", linkTarget: "", size: size)
        tar += [UInt8](repeating: 0x41, count: 512) + [UInt8](repeating: 0, count: 1024)
        var buffer = ByteBuffer(bytes: tar)
        let gzipped = Array(try buffer.compress(with: .gzip()).readableBytesView)
        #expect(throws: PipsqueakError.self) { try HandlerArchive.entries(gzipped: gzipped) }
    }

    @Test func refusesBaseTwoFiftySixSizes() throws {
        var block = tarHeader(name: "f.py", type: "0", linkTarget: "", size: "")
        block[124] = 0x80
        block[135] = 0x01
        let sum = block.enumerated().reduce(0) { $0 + ((148..<156).contains($1.offset) ? 0x20 : Int($1.element)) }
        for (index, byte) in (String(sum, radix: 8).leftPadded(6) + "\0 ").utf8.enumerated() { block[148 + index] = byte }
        var buffer = ByteBuffer(bytes: block + [UInt8](repeating: 0, count: 1536))
        let gzipped = Array(try buffer.compress(with: .gzip()).readableBytesView)
        #expect(throws: PipsqueakError.self) { try HandlerArchive.entries(gzipped: gzipped) }
    }

    private func tarHeader(name: String, type: Character, linkTarget: String, size: String = "00000000000") -> [UInt8] {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, _ offset: Int) { for (i, b) in text.utf8.enumerated() { block[offset + i] = b } }
        put(name, 0); put("0000644", 100); put(size, 124); put("00000000000", 136)
        block[156] = UInt8(type.asciiValue!)
        put(linkTarget, 157); put("ustar", 257); put("00", 263)
        put("        ", 148)
        let sum = block.reduce(0) { $0 + Int($1) }
        put(String(sum, radix: 8).leftPadded(6) + "\0 ", 148)
        return block
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
