import Foundation
import PipsqueakCore

/// One installed distribution and what installing it cost, stored as `meta.json` beside its files.
public struct InstalledPackage: Codable, Sendable, Equatable {
    public var name: String
    public var version: String
    public var downloadBytes: Int64
    public var installedBytes: Int64
    public var files: Int
    /// Seconds `pip download` took (nil in stores written before it was measured separately).
    public var downloadSeconds: Double?
    /// Seconds `pip install` of the downloaded archive took.
    public var installSeconds: Double
    /// Seconds to import the top-level modules once, in a fresh sandboxed interpreter; nil until measured.
    public var importSeconds: Double?
    public var topLevel: [String]
    public var installedAt: Date
    public var lastUsed: Date

    public var ref: PackageRef { PackageRef(name: name, version: version) }

    enum CodingKeys: String, CodingKey {
        case name, version, files
        case downloadBytes = "download_bytes"
        case installedBytes = "installed_bytes"
        case downloadSeconds = "download_seconds"
        case installSeconds = "install_seconds"
        case importSeconds = "import_seconds"
        case topLevel = "top_level"
        case installedAt = "installed_at"
        case lastUsed = "last_used"
    }
}

/// The top-level import names of an installed tree: `top_level.txt` if the wheel has one, else from `RECORD`.
enum TopLevelNames {
    static func find(in site: URL) -> [String] {
        let manager = FileManager.default
        let infos = ((try? manager.contentsOfDirectory(atPath: site.path)) ?? []).filter { $0.hasSuffix(".dist-info") }
        var names = Set<String>()
        for info in infos {
            let topLevel = site.appendingPathComponent(info).appendingPathComponent("top_level.txt")
            if let text = try? String(contentsOf: topLevel, encoding: .utf8) {
                names.formUnion(text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
                continue
            }
            let record = site.appendingPathComponent(info).appendingPathComponent("RECORD")
            for line in ((try? String(contentsOf: record, encoding: .utf8)) ?? "").split(whereSeparator: \.isNewline) {
                let path = line.split(separator: ",").first.map(String.init) ?? ""
                let first = path.split(separator: "/").first.map(String.init) ?? ""
                if first.hasSuffix(".dist-info") || first.hasSuffix(".data") || first == "__pycache__" || first == ".." { continue }
                if path.contains("/") {
                    if !first.contains(".") && !first.contains("-") { names.insert(first) }
                } else if first.hasSuffix(".py") {
                    names.insert(String(first.dropLast(3)))
                } else if let dot = first.firstIndex(of: "."), first.hasSuffix(".so") {
                    names.insert(String(first[..<dot]))
                }
            }
        }
        return names.filter { !$0.isEmpty && !$0.hasPrefix("_") || $0 == "_cffi_backend" }.sorted()
    }
}
