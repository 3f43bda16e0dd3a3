import Foundation
import PipsqueakCore

/// Small, exact reads and writes of cgroupfs control files, reporting the errno the kernel gave.
enum CgroupFile {
    static func write(_ value: String, to path: String) throws(PipsqueakError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { throw failure("open", path) }
        defer { close(fd) }
        var bytes = Array(value.utf8)
        let written = bytes.withUnsafeMutableBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        if written != bytes.count { throw failure("write '\(value)' to", path) }
    }

    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return nil }
        defer { close(fd) }
        return String(decoding: readAll(fd), as: UTF8.self)
    }

    /// Everything readable from `fd` until end of file (or, for a non-blocking pipe, until it is drained).
    static func readAll(_ fd: Int32) -> [UInt8] {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            result += buffer[0..<count]
        }
        return result
    }

    static func readInteger(_ path: String) -> Int64? {
        read(path).flatMap { Int64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// The value of `key` in a flat-keyed file such as `memory.events` or `cgroup.events`.
    static func keyedValue(_ key: String, in path: String) -> Int64? {
        guard let text = read(path) else { return nil }
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, parts[0] == key { return Int64(parts[1]) }
        }
        return nil
    }

    static func makeDirectory(_ path: String) throws(PipsqueakError) {
        if mkdir(path, 0o755) != 0 && errno != EEXIST { throw failure("mkdir", path) }
    }

    private static func failure(_ action: String, _ path: String) -> PipsqueakError {
        PipsqueakError(.sandboxFailed, "cgroup: \(action) \(path): \(String(cString: strerror(errno)))")
    }
}
