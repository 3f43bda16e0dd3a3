import Foundation
import SandboxSetup

/// `pipbench template`: reads a real wheel, or a distribution installed for Debian's Python, into a template.
public enum TemplateReader {
    /// Reads a `.whl` file; with a sandbox, installs it there (with its dependencies, from `indexURL` or pip's default)
    /// and measures its import in another sandbox.
    public static func fromWheel(_ url: URL, measureIn sandbox: StudySandbox?, indexURL: String? = nil) async throws -> PackageTemplate {
        let zip = try ZipReader(Array(try Data(contentsOf: url)))
        guard let meta = zip.entries.first(where: { $0.path.hasSuffix(".dist-info/METADATA") }) else {
            throw PipBenchError.invalidArchive("\(url.lastPathComponent) has no .dist-info/METADATA")
        }
        let metadata = String(decoding: try zip.contents(of: meta), as: UTF8.self)
        let topLevel = try zip.entries.first { $0.path.hasSuffix(".dist-info/top_level.txt") }
            .map { String(decoding: try zip.contents(of: $0), as: UTF8.self).split(whereSeparator: \.isNewline).map(String.init) }
            ?? inferTopLevel(zip.entries.map(\.path))
        var template = PackageTemplate(
            name: SimpleIndex.normalize(WheelMetadata.field("Name", in: metadata) ?? url.lastPathComponent),
            version: WheelMetadata.field("Version", in: metadata) ?? "0",
            topLevel: topLevel,
            files: zip.entries.filter { !$0.path.hasSuffix("/") }.map { .init(path: $0.path, size: $0.uncompressedSize, compressedSize: $0.compressedSize) },
            dependencies: WheelMetadata.requirements(metadata))
        if let sandbox, let module = topLevel.first(where: { !$0.hasPrefix("_") }) ?? topLevel.first {
            let work = try sandbox.makeWorkspace("template")
            defer { try? FileManager.default.removeItem(at: work.host) }
            let wheel = "/wheels/\(url.lastPathComponent)"
            var binds = [work.bind, .init(source: url.path, target: wheel)]
            let (index, network) = StartupStudy.indexArguments(indexURL, binds: &binds)
            let python = sandbox.settings.python
            let installed = try await sandbox.run(
                "template-install", [python, "-m", "pip", "install", "--target", "\(StudySandbox.Workspace.inSandbox)/site"] + index + [wheel],
                binds: binds, network: network, environment: work.environment, systemPackages: true)
            guard installed.succeeded else {
                throw PipBenchError.measurement("installing \(url.lastPathComponent) to measure it failed: \(installed.failure ?? "")")
            }
            apply(try await ImportProbe.measure(module: module, site: work.host.appendingPathComponent("site").path, in: sandbox).get(),
                  to: &template)
        }
        return template
    }

    /// Reads a distribution installed for `python` (files, sizes, requirements; metadata only, nothing imported);
    /// with a sandbox, measures its import there with Debian's packages visible.
    public static func fromInstalled(_ name: String, measureIn sandbox: StudySandbox?, python: String = "/usr/bin/python3") async throws -> PackageTemplate {
        let script = """
            import json, sys, importlib.metadata as md
            d = md.distribution(sys.argv[1])
            files = []
            for f in d.files or []:
                p = d.locate_file(f)
                try:
                    files.append({"path": str(f), "size": p.stat().st_size})
                except OSError:
                    pass
            top = (d.read_text("top_level.txt") or "").split()
            print(json.dumps({"name": d.metadata["Name"], "version": d.version, "files": files, "top": top,
                              "requires": d.requires or []}))
            """
        let result = try ProcessRunner.run(python, ["-c", script, name])
        guard result.status == 0, let line = result.output.split(whereSeparator: \.isNewline).last,
              let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw PipBenchError.usage("\(name) is neither a wheel file nor a distribution installed for \(python)")
        }
        let files = (object["files"] as? [[String: Any]] ?? []).compactMap { f -> PackageTemplate.File? in
            guard let path = f["path"] as? String, let size = f["size"] as? Int, !path.hasPrefix("..") else { return nil }
            return .init(path: path, size: size)
        }
        let requires = (object["requires"] as? [String] ?? []).map { "Requires-Dist: \($0)" }.joined(separator: "\n")
        let topLevel = (object["top"] as? [String]).flatMap { $0.isEmpty ? nil : $0 } ?? inferTopLevel(files.map(\.path))
        var template = PackageTemplate(
            name: SimpleIndex.normalize(object["name"] as? String ?? name), version: object["version"] as? String ?? "0",
            topLevel: topLevel, files: files.filter { !$0.path.contains("__pycache__/") }, dependencies: WheelMetadata.requirements(requires))
        if let sandbox, let module = topLevel.first(where: { !$0.hasPrefix("_") }) ?? topLevel.first {
            apply(try await ImportProbe.measure(module: module, site: nil, systemPackages: true, in: sandbox).get(), to: &template)
        }
        return template
    }

    static func apply(_ probe: ImportProbe.Measurement, to template: inout PackageTemplate) {
        template.importSeconds = probe.seconds
        template.importCpuSeconds = probe.cpuSeconds
        template.importMemoryBytes = max(probe.memoryBytes, 0)
    }

    static func inferTopLevel(_ paths: [String]) -> [String] {
        let tops = paths.compactMap { path -> String? in
            let first = path.split(separator: "/")[0]
            if first.hasSuffix(".dist-info") || first.hasSuffix(".data") || first.hasPrefix("..") { return nil }
            return String(first.hasSuffix(".py") ? first.dropLast(3) : first)
        }
        return Array(Set(tops)).sorted()
    }
}
