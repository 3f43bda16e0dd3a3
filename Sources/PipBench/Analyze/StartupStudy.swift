import Foundation

/// `pipbench analyze --startup NAME...`: download, install and import seconds of real packages,
/// each measured with Debian's pip in a fresh temporary directory and a minimal environment.
public struct StartupStudy: Sendable {
    /// The measurements for one package (its dependencies included).
    public struct Row: Codable, Sendable {
        public var name: String
        public var downloadSeconds: Double?
        public var downloadedBytes: Int?
        public var installSeconds: Double?
        public var installedBytes: Int?
        public var module: String?
        /// Seconds of the `import` statement inside a fresh interpreter.
        public var importSeconds: Double?
        /// Growth of the resident set during the import.
        public var importMemoryBytes: Int?
        public var error: String?
    }

    public var python = "/usr/bin/python3"
    /// Index to download from (default: pip's own configuration, normally PyPI).
    public var indexURL: String?

    public init(indexURL: String? = nil) { self.indexURL = indexURL }

    public func measure(_ name: String) throws -> Row {
        var row = Row(name: name)
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("pipbench-startup-\(UUID().uuidString.prefix(8))")
        let downloads = work.appendingPathComponent("downloads"), site = work.appendingPathComponent("site")
        try FileManager.default.createDirectory(at: downloads, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        var environment = ["PATH": "/usr/bin:/bin", "HOME": work.path, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONNOUSERSITE": "1"]
        for key in ["PIP_CERT", "SSL_CERT_FILE", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"] {
            environment[key] = ProcessInfo.processInfo.environment[key]
        }
        var download = ["-m", "pip", "download", "--no-cache-dir", "--only-binary", ":all:", "-d", downloads.path, name]
        if let indexURL { download += ["--index-url", indexURL] }
        let fetched = try ProcessRunner.run(python, download, environment: environment)
        guard fetched.status == 0 else { row.error = "download failed: \(fetched.output.suffix(300))"; return row }
        row.downloadSeconds = fetched.seconds
        row.downloadedBytes = Self.treeSize(downloads)
        let installed = try ProcessRunner.run(python, ["-m", "pip", "install", "--no-index", "--no-deps", "--find-links", downloads.path,
                                                       "--target", site.path] + Self.archives(in: downloads), environment: environment)
        guard installed.status == 0 else { row.error = "install failed: \(installed.output.suffix(300))"; return row }
        row.installSeconds = installed.seconds
        row.installedBytes = Self.treeSize(site)
        guard let module = Self.topLevelModule(of: name, in: site) else { row.error = "no importable module found"; return row }
        row.module = module
        guard let probe = try ImportProbe.measure(module: module, pythonPath: site.path, python: python, environment: environment) else {
            row.error = "import of \(module) failed"
            return row
        }
        row.importSeconds = probe.seconds
        row.importMemoryBytes = probe.memoryBytes
        return row
    }

    static func archives(in directory: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted().map { directory.appendingPathComponent($0).path }
    }

    /// The first `top_level.txt` entry of the named distribution, or its normalised name as a module.
    static func topLevelModule(of name: String, in site: URL) -> String? {
        let wanted = SimpleIndex.normalize(name)
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: site.path)) ?? [] where entry.hasSuffix(".dist-info") {
            let project = SimpleIndex.normalize(String(entry.dropLast(".dist-info".count).split(separator: "-")[0]))
            guard project == wanted else { continue }
            let topLevel = site.appendingPathComponent(entry).appendingPathComponent("top_level.txt")
            if let text = try? String(contentsOf: topLevel, encoding: .utf8),
               let first = text.split(whereSeparator: \.isNewline).map(String.init).first(where: { !$0.hasPrefix("_") }) ?? text.split(whereSeparator: \.isNewline).first.map(String.init) {
                return first
            }
            let record = site.appendingPathComponent(entry).appendingPathComponent("RECORD")
            if let text = try? String(contentsOf: record, encoding: .utf8) {
                let tops = TemplateReader.inferTopLevel(text.split(whereSeparator: \.isNewline).map { String($0.split(separator: ",")[0]) })
                return tops.first { !$0.hasPrefix("_") } ?? tops.first
            }
        }
        return nil
    }

    static func treeSize(_ url: URL) -> Int {
        guard let walker = FileManager.default.enumerator(at: url, includingPropertiesForKeys: [.fileSizeKey]) else { return 0 }
        return walker.compactMap { ($0 as? URL).flatMap { try? $0.resourceValues(forKeys: [.fileSizeKey]).fileSize } }.reduce(0, +)
    }

    public static func report(_ rows: [Row]) -> String {
        var lines = ["package                  download s   downloaded    install s    installed   import s   import mem"]
        for r in rows {
            if let error = r.error { lines.append("\(r.name): \(error)"); continue }
            lines.append(r.name.padded(24) + String(format: " %10.2f ", r.downloadSeconds ?? 0)
                + Format.bytes(r.downloadedBytes ?? 0).padded(12, left: true) + String(format: " %12.2f ", r.installSeconds ?? 0)
                + Format.bytes(r.installedBytes ?? 0).padded(12, left: true) + String(format: " %10.3f ", r.importSeconds ?? 0)
                + Format.bytes(r.importMemoryBytes ?? 0).padded(12, left: true))
        }
        return lines.joined(separator: "\n")
    }
}
