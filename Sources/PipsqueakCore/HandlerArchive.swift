import CompressNIO
import Foundation
import NIOCore

/// Handler code travels as a gzip-compressed tar of the handler directory.
///
/// Extraction accepts only regular files and directories with relative paths that stay inside the target;
/// links, devices and `..` are refused, and sizes are bounded.
public enum HandlerArchive {
    public struct Limits: Sendable {
        public var maxUncompressedBytes: Int = 256 << 20
        public var maxEntries: Int = 20_000
        public init() {}
    }

    public struct Entry: Equatable, Sendable {
        public var path: String
        public var contents: [UInt8]
        public var isDirectory: Bool
    }

    // MARK: writing

    /// A gzip tar holding `files` (paths relative to the archive root).
    public static func gzipTar(files: [(path: String, contents: [UInt8])]) throws -> [UInt8] {
        var tar: [UInt8] = []
        for file in files.sorted(by: { $0.path < $1.path }) {
            tar += header(path: file.path, size: file.contents.count, type: "0", mode: 0o644)
            tar += file.contents
            tar += [UInt8](repeating: 0, count: (512 - file.contents.count % 512) % 512)
        }
        tar += [UInt8](repeating: 0, count: 1024)
        var buffer = ByteBuffer(bytes: tar)
        let compressed = try buffer.compress(with: .gzip())
        return Array(compressed.readableBytesView)
    }

    /// A gzip tar of a directory's regular files, or of a single file stored under `fileName`.
    public static func gzipTar(of url: URL, singleFileName: String = "f.py") throws -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw PipsqueakError(.invalidRequest, "\(url.path) does not exist")
        }
        if !isDirectory.boolValue {
            return try gzipTar(files: [(singleFileName, Array(try Data(contentsOf: url)))])
        }
        var files: [(String, [UInt8])] = []
        let base = url.standardizedFileURL.resolvingSymlinksInPath().path
        let enumerator = FileManager.default.enumerator(at: url, includingPropertiesForKeys: [.isRegularFileKey])
        while let item = enumerator?.nextObject() as? URL {
            let values = try item.resourceValues(forKeys: [.isRegularFileKey])
            guard values.isRegularFile == true else { continue }
            let full = item.standardizedFileURL.resolvingSymlinksInPath().path
            guard full.hasPrefix(base + "/") else { continue }
            let relative = String(full.dropFirst(base.count + 1))
            if relative.split(separator: "/").contains(where: { $0 == "__pycache__" || $0.hasPrefix(".") }) { continue }
            files.append((relative, Array(try Data(contentsOf: item))))
        }
        return try gzipTar(files: files)
    }

    private static func header(path: String, size: Int, type: Character, mode: Int) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int, length: Int) {
            for (index, byte) in text.utf8.prefix(length).enumerated() { block[offset + index] = byte }
        }
        let bytes = Array(path.utf8)
        if bytes.count <= 100 {
            put(path, at: 0, length: 100)
        } else if let split = bytes.lastIndex(of: 0x2F), split <= 155, bytes.count - split - 1 <= 100 {
            put(String(decoding: bytes[(split + 1)...], as: UTF8.self), at: 0, length: 100)
            put(String(decoding: bytes[..<split], as: UTF8.self), at: 345, length: 155)
        } else {
            put(String(path.suffix(100)), at: 0, length: 100)
        }
        put(String(format: "%07o", mode), at: 100, length: 8)
        put("0000000", at: 108, length: 8)
        put("0000000", at: 116, length: 8)
        put(String(format: "%011o", size), at: 124, length: 12)
        put(String(format: "%011o", 0), at: 136, length: 12)
        put("        ", at: 148, length: 8)
        block[156] = UInt8(type.asciiValue!)
        put("ustar", at: 257, length: 6)
        put("00", at: 263, length: 2)
        let checksum = block.reduce(0) { $0 + Int($1) }
        put(String(format: "%06o", checksum) + "\0 ", at: 148, length: 8)
        return block
    }

    // MARK: reading

    /// Decompresses and parses a gzip tar into its entries.
    public static func entries(gzipped: [UInt8], limits: Limits = Limits()) throws(PipsqueakError) -> [Entry] {
        var buffer = ByteBuffer(bytes: gzipped)
        let tar: [UInt8]
        do {
            let decompressed = try buffer.decompress(with: .gzip(), maxSize: limits.maxUncompressedBytes)
            tar = Array(decompressed.readableBytesView)
        } catch let error as CompressNIOError where error == .bufferOverflow {
            throw PipsqueakError(.payloadTooLarge, "handler archive expands beyond \(limits.maxUncompressedBytes >> 20) MiB")
        } catch {
            throw PipsqueakError(.invalidArchive, "body is not a gzip-compressed tar: \(error)")
        }
        return try parseTar(tar, limits: limits)
    }

    static func parseTar(_ tar: [UInt8], limits: Limits) throws(PipsqueakError) -> [Entry] {
        var entries: [Entry] = []
        var offset = 0
        var pendingLongName: String?
        while offset + 512 <= tar.count {
            let block = tar[offset..<(offset + 512)]
            if block.allSatisfy({ $0 == 0 }) { break }
            guard verifyChecksum(block) else { throw PipsqueakError(.invalidArchive, "tar header checksum mismatch at byte \(offset)") }
            let size = try octal(block, 124, 12)
            let type = block[block.startIndex + 156]
            let dataStart = offset + 512
            guard size <= tar.count - dataStart else {
                throw PipsqueakError(.invalidArchive, "tar entry runs past the end of the archive")
            }
            let dataEnd = dataStart + size
            let data = Array(tar[dataStart..<dataEnd])
            offset = dataStart + (size + 511) / 512 * 512
            var name = pendingLongName ?? headerName(block)
            pendingLongName = nil
            switch type {
            case UInt8(ascii: "x"):
                pendingLongName = paxPath(data)
                continue
            case UInt8(ascii: "L"):
                pendingLongName = String(decoding: data.prefix { $0 != 0 }, as: UTF8.self)
                continue
            case UInt8(ascii: "g"):
                continue
            case 0, UInt8(ascii: "0"), UInt8(ascii: "7"), UInt8(ascii: "5"):
                break
            default:
                throw PipsqueakError(.invalidArchive, "'\(name)' is a link or special file; handler archives may hold only regular files and directories")
            }
            name = try sanitized(name)
            if name.isEmpty { continue }
            entries.append(Entry(path: name, contents: type == UInt8(ascii: "5") ? [] : data, isDirectory: type == UInt8(ascii: "5")))
            guard entries.count <= limits.maxEntries else {
                throw PipsqueakError(.payloadTooLarge, "handler archive holds more than \(limits.maxEntries) entries")
            }
        }
        return entries
    }

    /// Writes entries under `directory`, which must not exist yet.
    public static func extract(_ entries: [Entry], into directory: URL) throws {
        let manager = FileManager.default
        try manager.createDirectory(at: directory, withIntermediateDirectories: true)
        for entry in entries {
            let target = directory.appendingPathComponent(entry.path)
            if entry.isDirectory {
                try manager.createDirectory(at: target, withIntermediateDirectories: true)
            } else {
                try manager.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                guard manager.createFile(atPath: target.path, contents: Data(entry.contents), attributes: [.posixPermissions: 0o644]) else {
                    throw PipsqueakError(.internalError, "cannot write \(target.path)")
                }
            }
        }
    }

    static func sanitized(_ name: String) throws(PipsqueakError) -> String {
        var components: [Substring] = []
        for component in name.split(separator: "/") where component != "." {
            if component == ".." { throw PipsqueakError(.invalidArchive, "'\(name)' escapes the handler directory") }
            components.append(component)
        }
        if name.hasPrefix("/") { throw PipsqueakError(.invalidArchive, "'\(name)' is an absolute path") }
        return components.joined(separator: "/")
    }

    private static func headerName(_ block: ArraySlice<UInt8>) -> String {
        let base = block.startIndex
        let name = String(decoding: block[base..<(base + 100)].prefix { $0 != 0 }, as: UTF8.self)
        let prefix = String(decoding: block[(base + 345)..<(base + 500)].prefix { $0 != 0 }, as: UTF8.self)
        return prefix.isEmpty ? name : prefix + "/" + name
    }

    private static func paxPath(_ data: [UInt8]) -> String? {
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            guard let space = line.firstIndex(of: " ") else { continue }
            let record = line[line.index(after: space)...]
            if record.hasPrefix("path=") { return String(record.dropFirst(5)) }
        }
        return nil
    }

    /// A tar header number: octal digits, optionally padded with spaces or NULs. Signs and the base-256
    /// extension are refused, so the result is never negative and fits easily in an `Int`.
    static func octal(_ block: ArraySlice<UInt8>, _ offset: Int, _ length: Int) throws(PipsqueakError) -> Int {
        let start = block.startIndex + offset
        let field = block[start..<(start + length)].drop { $0 == 0x20 }
        let digits = field.prefix { $0 != 0 && $0 != 0x20 }
        guard digits.count <= 11 else { throw PipsqueakError(.invalidArchive, "number in tar header is too large") }
        var value = 0
        for digit in digits {
            guard (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(digit) else {
                throw PipsqueakError(.invalidArchive, "bad number in tar header")
            }
            value = value * 8 + Int(digit - UInt8(ascii: "0"))
        }
        return value
    }

    private static func verifyChecksum(_ block: ArraySlice<UInt8>) -> Bool {
        guard let expected = try? octal(block, 148, 8) else { return false }
        var sum = 0
        for (index, byte) in block.enumerated() { sum += (148..<156).contains(index) ? 0x20 : Int(byte) }
        return sum == expected
    }
}
