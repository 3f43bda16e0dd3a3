import Foundation
import SandboxSetup

/// `pipbench analyze --startup NAME...`: download, install and import seconds of real packages, each step in its own
/// Pipsqueak sandbox (download with network; install and import without), as the install cache does it.
public struct StartupStudy: Sendable {
    /// The measurements for one package (its dependencies included).
    public struct Row: Codable, Sendable {
        public var name: String
        public var downloadSeconds: Double?
        public var downloadedBytes: Int?
        /// Archives downloaded: the package and its dependency closure.
        public var distributions: Int?
        public var installSeconds: Double?
        public var installedBytes: Int?
        public var module: String?
        /// Seconds of the `import` statement inside a fresh interpreter.
        public var importSeconds: Double?
        /// CPU seconds of the import.
        public var importCpuSeconds: Double?
        /// Growth of the resident set during the import.
        public var importMemoryBytes: Int?
        public var error: String?
    }

    /// Index to download from (default: pip's own configuration, normally PyPI). A `file://` index is mounted
    /// read-only and the download runs without network.
    public var indexURL: String?

    public init(indexURL: String? = nil) { self.indexURL = indexURL }

    static let indexInSandbox = "/index"

    public func measure(_ name: String, in sandbox: StudySandbox) async throws -> Row {
        var row = Row(name: name)
        guard !name.hasPrefix("-"), !name.isEmpty else { row.error = "not a package name"; return row }
        let work = try sandbox.makeWorkspace("startup-\(name)")
        defer { try? FileManager.default.removeItem(at: work.host) }
        let inSandbox = StudySandbox.Workspace.inSandbox
        let downloads = work.host.appendingPathComponent("downloads"), site = work.host.appendingPathComponent("site")
        var binds = [work.bind]
        let (index, network) = Self.indexArguments(indexURL, binds: &binds)
        let python = sandbox.settings.python
        let fetched = try await sandbox.timed(
            "download", [python, "-m", "pip", "download", "--prefer-binary", "-d", "\(inSandbox)/downloads"] + index + [name],
            binds: binds, network: network, environment: work.environment, systemPackages: true)
        guard fetched.succeeded else { row.error = "download failed: \(fetched.failure ?? "")"; return row }
        let archives = Self.archives(in: downloads)
        row.downloadSeconds = fetched.seconds
        row.downloadedBytes = Self.treeSize(downloads)
        row.distributions = archives.count
        let installed = try await sandbox.timed(
            "install", [python, "-m", "pip", "install", "--no-index", "--no-deps", "--no-build-isolation", "--target", "\(inSandbox)/site"]
                + archives.map { "\(inSandbox)/downloads/\($0.lastPathComponent)" },
            binds: binds, network: false, environment: work.environment, systemPackages: true)
        guard installed.succeeded else { row.error = "install failed: \(installed.failure ?? "")"; return row }
        row.installSeconds = installed.seconds
        row.installedBytes = Self.treeSize(site)
        guard let module = Self.topLevelModule(of: name, in: site) else { row.error = "no importable module found"; return row }
        row.module = module
        switch try await ImportProbe.measure(module: module, site: site.path, in: sandbox) {
        case .success(let probe):
            row.importSeconds = probe.seconds
            row.importCpuSeconds = probe.cpuSeconds
            row.importMemoryBytes = probe.memoryBytes
        case .failure(let error):
            row.error = error.description
        }
        return row
    }

    /// pip's index options in a sandbox, and whether it needs the network: a `file://` index is mounted read-only.
    static func indexArguments(_ indexURL: String?, binds: inout [SandboxConfiguration.Bind]) -> (arguments: [String], network: Bool) {
        guard let indexURL else { return ([], true) }
        guard indexURL.hasPrefix("file://") else { return (["--index-url", indexURL], true) }
        binds.append(.init(source: String(indexURL.dropFirst("file://".count)), target: indexInSandbox))
        return (["--index-url", "file://\(indexInSandbox)"], false)
    }

    static func archives(in directory: URL) -> [URL] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted().map { directory.appendingPathComponent($0) }
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
        var lines = ["package                dists  download s   downloaded   install s    installed   import s  import cpu s   import mem"]
        for r in rows {
            if let error = r.error { lines.append("\(r.name): \(error)"); continue }
            lines.append(r.name.padded(22) + String(format: " %5d %11.2f ", r.distributions ?? 0, r.downloadSeconds ?? 0)
                + Format.bytes(r.downloadedBytes ?? 0).padded(12, left: true) + String(format: " %11.2f ", r.installSeconds ?? 0)
                + Format.bytes(r.installedBytes ?? 0).padded(12, left: true)
                + String(format: " %10.3f %13.3f ", r.importSeconds ?? 0, r.importCpuSeconds ?? 0)
                + Format.bytes(r.importMemoryBytes ?? 0).padded(12, left: true))
        }
        return lines.joined(separator: "\n")
    }
}
