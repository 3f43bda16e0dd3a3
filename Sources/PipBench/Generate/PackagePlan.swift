/// Everything decided about one artificial package before any byte is written.
public struct PackagePlan: Codable, Sendable, Equatable {
    /// A dependency edge with its version specifier, e.g. `>=1.1.0,<3`.
    public struct Requirement: Codable, Sendable, Equatable {
        public var name: String
        public var specifier: String
        public var requiresDist: String { name + specifier }
    }

    /// The role of a planned file, which decides how its contents are synthesised.
    public enum FileKind: String, Codable, Sendable {
        case text, python, json, native
    }

    /// One ordinary file, relative to the site-packages root.
    public struct File: Codable, Sendable, Equatable {
        public var path: String
        public var size: Int
        public var kind: FileKind
    }

    public var index: Int
    /// Project name, already PEP 503-normalised (`pb-kavo-0007`).
    public var name: String
    /// Top-level module name (`pb_kavo_0007`).
    public var importName: String
    public var versions: [String]
    public var requirements: [Requirement]
    /// 1 = most popular.
    public var popularityRank: Int
    /// Probability that a handler import picks this package (all packages sum to 1).
    public var popularity: Double
    public var files: [File]
    /// Sub-package directories (each gets an `__init__.py`).
    public var subpackages: [String]
    public var importCpuSeconds: Double
    public var importMemoryBytes: Int
    public var installCpuSeconds: Double
    public var compressionRatio: Double
    public var nativeCompressionRatio: Double
    public var hasWheel: Bool
    public var hasSdist: Bool
    /// Name of the template this package was stamped from, if any.
    public var template: String?

    public var latestVersion: String { versions[versions.count - 1] }
    /// The name as wheel and sdist file names spell it.
    public var distName: String { importName }

    public func wheelFileName(version: String) -> String { "\(distName)-\(version)-py3-none-any.whl" }
    public func sdistFileName(version: String) -> String { "\(distName)-\(version).tar.gz" }
}

extension Array where Element == PackagePlan {
    /// The names in `name`'s dependency closure, itself included.
    public func dependencyClosure(of name: String) -> Set<String> {
        let byName = Dictionary(map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var seen: Set<String> = [], stack = [name]
        while let next = stack.popLast() {
            guard seen.insert(next).inserted, let plan = byName[next] else { continue }
            stack += plan.requirements.map(\.name)
        }
        return seen
    }
}
