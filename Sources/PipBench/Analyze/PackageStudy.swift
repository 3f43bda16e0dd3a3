import Foundation

/// `pipbench analyze DIR`: sizes by file type, files per package, compression and dependency fan-out
/// for every wheel (and sdist archive) below a directory, such as a mirror's `packages/` tree.
public struct PackageStudy: Codable, Sendable {
    /// Totals for one file type (extension of the file inside the archive).
    public struct TypeTotals: Codable, Sendable, Equatable {
        public var files = 0
        public var uncompressedBytes = 0
        public var compressedBytes = 0
    }

    public var wheels = 0
    public var sdists = 0
    public var sdistBytes = 0
    public var unreadable: [String] = []
    public var byType: [String: TypeTotals] = [:]
    public var filesPerWheel = Stats([])
    public var uncompressedBytesPerWheel = Stats([])
    public var fanOut = Stats([])
    /// Number of direct dependencies → number of wheels with that many.
    public var fanOutHistogram: [Int: Int] = [:]

    public var totalUncompressed: Int { byType.values.reduce(0) { $0 + $1.uncompressedBytes } }
    public var totalCompressed: Int { byType.values.reduce(0) { $0 + $1.compressedBytes } }
    public var compressionRatio: Double { totalUncompressed == 0 ? 0 : Double(totalCompressed) / Double(totalUncompressed) }

    public static func run(directory: URL) throws -> PackageStudy {
        var study = PackageStudy()
        var fileCounts: [Double] = [], sizes: [Double] = [], fanOuts: [Double] = []
        guard let walker = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.fileSizeKey]) else {
            throw PipBenchError.io("cannot read \(directory.path)")
        }
        for case let url as URL in walker {
            let name = url.lastPathComponent
            if name.hasSuffix(".tar.gz") || (name.hasSuffix(".zip")) {
                study.sdists += 1
                study.sdistBytes += (try? url.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0
                continue
            }
            guard name.hasSuffix(".whl") else { continue }
            do {
                let zip = try ZipReader(Array(try Data(contentsOf: url)))
                study.wheels += 1
                var count = 0, total = 0
                for entry in zip.entries where !entry.path.hasSuffix("/") {
                    let type = fileType(entry.path)
                    study.byType[type, default: TypeTotals()].files += 1
                    study.byType[type, default: TypeTotals()].uncompressedBytes += entry.uncompressedSize
                    study.byType[type, default: TypeTotals()].compressedBytes += entry.compressedSize
                    if !entry.path.contains(".dist-info/") { count += 1 }
                    total += entry.uncompressedSize
                }
                fileCounts.append(Double(count))
                sizes.append(Double(total))
                if let meta = zip.entries.first(where: { $0.path.hasSuffix(".dist-info/METADATA") }) {
                    let deps = WheelMetadata.requirements(String(decoding: try zip.contents(of: meta), as: UTF8.self))
                    fanOuts.append(Double(deps.count))
                    study.fanOutHistogram[deps.count, default: 0] += 1
                }
            } catch {
                study.unreadable.append(url.path)
            }
        }
        study.filesPerWheel = Stats(fileCounts)
        study.uncompressedBytesPerWheel = Stats(sizes)
        study.fanOut = Stats(fanOuts)
        return study
    }

    /// `.py`, `.so`, ..., `metadata` for `.dist-info` files, `(none)` without an extension.
    static func fileType(_ path: String) -> String {
        if path.contains(".dist-info/") { return "dist-info" }
        let name = path.split(separator: "/").last.map(String.init) ?? path
        if name.hasSuffix(".so") || name.contains(".so.") { return ".so" }
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return "(none)" }
        return String(name[dot...]).lowercased()
    }

    /// A plain-text report.
    public func report() -> String {
        var lines = [
            "wheels: \(wheels)   sdists: \(sdists) (\(Format.bytes(sdistBytes)))   unreadable: \(unreadable.count)",
            "uncompressed: \(Format.bytes(totalUncompressed))   compressed: \(Format.bytes(totalCompressed))   compression ratio: \(String(format: "%.3f", compressionRatio))",
            "",
            "type            files   uncompressed     compressed   ratio   share",
        ]
        for (type, t) in byType.sorted(by: { $0.value.uncompressedBytes > $1.value.uncompressedBytes }) {
            let ratio = t.uncompressedBytes == 0 ? 0 : Double(t.compressedBytes) / Double(t.uncompressedBytes)
            let share = totalUncompressed == 0 ? 0 : Double(t.uncompressedBytes) / Double(totalUncompressed)
            lines.append(type.padded(12) + String(format: " %8d ", t.files) + Format.bytes(t.uncompressedBytes).padded(14, left: true) + " "
                + Format.bytes(t.compressedBytes).padded(14, left: true) + String(format: " %7.3f %6.1f%%", ratio, share * 100))
        }
        lines.append("")
        lines.append("files per wheel:        \(Format.stats(filesPerWheel))")
        lines.append("uncompressed per wheel: \(Format.stats(uncompressedBytesPerWheel, bytes: true))")
        lines.append("dependency fan-out:     \(Format.stats(fanOut))")
        lines.append("fan-out histogram:      " + fanOutHistogram.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: " "))
        return lines.joined(separator: "\n")
    }
}

extension String {
    /// Pads with spaces to `width` (on the left when `left`), for aligned report columns.
    func padded(_ width: Int, left: Bool = false) -> String {
        let fill = String(repeating: " ", count: Swift.max(width - count, 0))
        return left ? fill + self : self + fill
    }
}

/// Small formatting helpers for reports.
enum Format {
    static func bytes(_ n: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(n), unit = 0
        while value >= 1024, unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(n) B" : String(format: "%.1f %@", value, units[unit])
    }

    static func stats(_ s: Stats, bytes asBytes: Bool = false) -> String {
        func f(_ v: Double) -> String { asBytes ? bytes(Int(v)) : String(format: "%.1f", v) }
        return "n=\(s.count) mean=\(f(s.mean)) min=\(f(s.min)) median=\(f(s.median)) p90=\(f(s.p90)) max=\(f(s.max))"
    }
}
