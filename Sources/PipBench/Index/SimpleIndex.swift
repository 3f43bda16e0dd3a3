import Foundation

/// Writes a PEP 503 "simple" index (HTML) and its PEP 691 JSON twin.
///
/// Layout: `simple/index.html`, `simple/<project>/index.html` (and `index.json` beside each), with the
/// project's files in the same folder, linked as `<file>#sha256=<hex>`; PEP 658 metadata is linked where a
/// `<file>.metadata` exists.
public struct SimpleIndex {
    /// One downloadable file of a project.
    public struct Link: Sendable, Equatable {
        public var filename: String
        public var sha256: String
        public var requiresPython: String?
        /// sha256 of the PEP 658 `.metadata` file served beside the wheel, if any.
        public var metadataSha256: String?

        public init(filename: String, sha256: String, requiresPython: String? = nil, metadataSha256: String? = nil) {
            self.filename = filename
            self.sha256 = sha256
            self.requiresPython = requiresPython
            self.metadataSha256 = metadataSha256
        }
    }

    /// Project name → its files.
    public var projects: [String: [Link]] = [:]

    public init() {}

    /// PEP 503 normalisation: lowercase, runs of `-_.` become one `-`.
    public static func normalize(_ name: String) -> String {
        name.lowercased().replacingOccurrences(of: "[-_.]+", with: "-", options: .regularExpression)
    }

    /// `simple/<normalized project>`: the folder holding a project's page and files.
    public static func projectPath(_ project: String) -> String { "simple/\(normalize(project))" }

    /// Writes every index page below `root/simple`.
    public func write(to root: URL) throws {
        let simple = root.appendingPathComponent("simple")
        try FileManager.default.createDirectory(at: simple, withIntermediateDirectories: true)
        let names = projects.keys.map(Self.normalize).sorted()
        try Data(rootHTML(names).utf8).write(to: simple.appendingPathComponent("index.html"))
        try json(["meta": ["api-version": "1.0"], "projects": names.map { ["name": $0] }])
            .write(to: simple.appendingPathComponent("index.json"))
        for (name, links) in projects {
            let normalized = Self.normalize(name)
            let dir = simple.appendingPathComponent(normalized)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let sorted = links.sorted { $0.filename < $1.filename }
            try Data(projectHTML(normalized, sorted).utf8).write(to: dir.appendingPathComponent("index.html"))
            try projectJSON(normalized, sorted).write(to: dir.appendingPathComponent("index.json"))
        }
    }

    func rootHTML(_ names: [String]) -> String {
        let body = names.map { "    <a href=\"\($0)/\">\($0)</a><br/>" }.joined(separator: "\n")
        return "<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\"1.0\">\n    <title>Simple index</title>\n  </head>\n  <body>\n\(body)\n  </body>\n</html>\n"
    }

    func projectHTML(_ name: String, _ links: [Link]) -> String {
        let body = links.map { link -> String in
            var attributes = "href=\"\(link.filename)#sha256=\(link.sha256)\""
            if let python = link.requiresPython { attributes += " data-requires-python=\"\(Self.escape(python))\"" }
            if let meta = link.metadataSha256 {
                attributes += " data-dist-info-metadata=\"sha256=\(meta)\" data-core-metadata=\"sha256=\(meta)\""
            }
            return "    <a \(attributes)>\(link.filename)</a><br/>"
        }.joined(separator: "\n")
        return "<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\"1.0\">\n    <title>Links for \(name)</title>\n  </head>\n  <body>\n    <h1>Links for \(name)</h1>\n\(body)\n  </body>\n</html>\n"
    }

    func projectJSON(_ name: String, _ links: [Link]) throws -> Data {
        let files: [[String: Any]] = links.map { link in
            var file: [String: Any] = [
                "filename": link.filename,
                "url": link.filename,
                "hashes": ["sha256": link.sha256],
            ]
            if let python = link.requiresPython { file["requires-python"] = python }
            // Only the PEP 714 key: pip 23.0 crashes on the older `dist-info-metadata` key's dict form.
            if let meta = link.metadataSha256 { file["core-metadata"] = ["sha256": meta] }
            return file
        }
        return try json(["meta": ["api-version": "1.0"], "name": name, "files": files])
    }

    private func json(_ object: Any) throws -> Data {
        try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
