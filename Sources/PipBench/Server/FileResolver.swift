import Foundation

/// Maps a request path onto a file below the served root, refusing anything that could escape it.
///
/// Directories serve their `index.html`, or `index.json` when the client asks for the PEP 691 JSON form.
public struct FileResolver: Sendable {
    /// The outcome of resolving one path.
    public enum Resolution: Equatable, Sendable {
        case file(path: String, contentType: String)
        case redirect(String)
        case notFound
        case forbidden
    }

    public static let pep691JSON = "application/vnd.pypi.simple.v1+json"
    public let root: String

    public init(root: URL) {
        self.root = root.standardizedFileURL.resolvingSymlinksInPath().path
    }

    public func resolve(path rawPath: String, accept: String?) -> Resolution {
        guard let decoded = rawPath.split(separator: "?", maxSplits: 1).first.map(String.init)?.removingPercentEncoding else {
            return .forbidden
        }
        let components = decoded.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        if components.contains(where: { $0 == ".." || $0 == "." || $0.contains("\0") || $0.contains("\\") }) {
            return .forbidden
        }
        var normalizedComponents = components
        var candidate = ([root] + components).joined(separator: "/")
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory) {
            // pip asks for normalised project names; a mirror may hold them otherwise spelled, or vice versa.
            guard components.count >= 2, components[0] == "simple" else { return .notFound }
            let normalized = SimpleIndex.normalize(components[1])
            guard normalized != components[1] else { return .notFound }
            normalizedComponents[1] = normalized
            candidate = ([root] + normalizedComponents).joined(separator: "/")
            guard FileManager.default.fileExists(atPath: candidate) else { return .notFound }
            return .redirect("/" + normalizedComponents.joined(separator: "/") + "/")
        }
        guard isInsideRoot(candidate) else { return .forbidden }
        if isDirectory.boolValue {
            if !rawPath.hasSuffix("/") { return .redirect("/" + components.joined(separator: "/") + (components.isEmpty ? "" : "/")) }
            let wantsJSON = accept.map(Self.prefersJSON) ?? false
            let json = candidate + "/index.json", html = candidate + "/index.html"
            if wantsJSON, FileManager.default.fileExists(atPath: json) { return .file(path: json, contentType: Self.pep691JSON) }
            if FileManager.default.fileExists(atPath: html) { return .file(path: html, contentType: "text/html; charset=utf-8") }
            return .notFound
        }
        return .file(path: candidate, contentType: Self.contentType(for: candidate))
    }

    /// Whether the file, after following links, still lies below the root.
    private func isInsideRoot(_ path: String) -> Bool {
        let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        return real == root || real.hasPrefix(root + "/")
    }

    /// True when the Accept header ranks the PEP 691 JSON type above HTML.
    static func prefersJSON(_ accept: String) -> Bool {
        var json = -1.0, html = -1.0
        for part in accept.split(separator: ",") {
            let fields = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            let q = fields.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
            switch fields.first ?? "" {
            case pep691JSON, "application/json": json = max(json, q)
            case "application/vnd.pypi.simple.v1+html", "text/html": html = max(html, q)
            default: break
            }
        }
        return json > 0 && json >= html
    }

    static func contentType(for path: String) -> String {
        let name = path.lowercased()
        if name.hasSuffix(".whl") || name.hasSuffix(".zip") { return "application/zip" }
        if name.hasSuffix(".tar.gz") || name.hasSuffix(".tgz") { return "application/gzip" }
        if name.hasSuffix(".html") { return "text/html; charset=utf-8" }
        if name.hasSuffix(".json") { return "application/json" }
        if name.hasSuffix(".metadata") || name.hasSuffix(".txt") { return "text/plain; charset=utf-8" }
        return "application/octet-stream"
    }
}
