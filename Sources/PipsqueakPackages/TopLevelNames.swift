import Foundation

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
