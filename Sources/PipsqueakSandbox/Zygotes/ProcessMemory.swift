import Foundation

/// A process's memory as `/proc/PID/smaps_rollup` reports it, in bytes.
public struct ProcessMemory: Sendable, Equatable, Codable {
    public var rss: Int64 = 0
    public var pss: Int64 = 0
    public var sharedClean: Int64 = 0
    public var sharedDirty: Int64 = 0
    public var privateClean: Int64 = 0
    public var privateDirty: Int64 = 0

    public init() {}

    /// Pages only this process maps: what killing it frees.
    public var privateBytes: Int64 { privateClean + privateDirty }
    /// Pages it shares with other processes (its zygote parent, its children).
    public var sharedBytes: Int64 { sharedClean + sharedDirty }

    public static func read(pid: pid_t) -> ProcessMemory? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/smaps_rollup", encoding: .utf8) else { return nil }
        return parse(smapsRollup: text)
    }

    /// Parses the `Key:   N kB` lines of smaps_rollup.
    public static func parse(smapsRollup text: String) -> ProcessMemory {
        var memory = ProcessMemory()
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let kilobytes = Int64(fields[1]) else { continue }
            let bytes = kilobytes.multipliedReportingOverflow(by: 1024).overflow ? Int64.max : kilobytes * 1024
            switch fields[0] {
            case "Rss:": memory.rss = bytes
            case "Pss:": memory.pss = bytes
            case "Shared_Clean:": memory.sharedClean = bytes
            case "Shared_Dirty:": memory.sharedDirty = bytes
            case "Private_Clean:": memory.privateClean = bytes
            case "Private_Dirty:": memory.privateDirty = bytes
            default: break
            }
        }
        return memory
    }

    enum CodingKeys: String, CodingKey {
        case rss, pss
        case sharedClean = "shared_clean"
        case sharedDirty = "shared_dirty"
        case privateClean = "private_clean"
        case privateDirty = "private_dirty"
    }
}
