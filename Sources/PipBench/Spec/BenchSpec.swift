import Foundation
import Yams

/// Everything `pipbench generate` needs; every field but `seed` and `packages` has a default
/// chosen to resemble real PyPI packages (see docs/pipbench.md for the sources of each figure).
public struct BenchSpec: Codable, Sendable, Equatable {
    /// PRNG seed: the same spec and seed always produce byte-identical output.
    public var seed: UInt64 = 1
    /// Number of distinct packages (projects).
    public var packages: Int = 100
    /// Prefix of generated project names, e.g. `pb-kavo-0007`.
    public var namePrefix: String = "pb"
    /// Releases per project.
    public var versionsPerPackage = Distribution(.lognormal(median: 2, sigma: 0.8), minimum: 1, maximum: 12)
    /// Files in one wheel, besides the generated `__init__.py` and the `.dist-info` files.
    public var filesPerPackage = Distribution(.lognormal(median: 10, sigma: 1.2), minimum: 1, maximum: 500)
    /// Size in bytes of one ordinary file.
    public var fileSizeBytes = Distribution(.lognormal(median: 3_000, sigma: 1.3), minimum: 64, maximum: 2_097_152)
    /// How deep the package's sub-packages nest (0 = all files beside `__init__.py`).
    public var directoryDepth = Distribution(.empirical([0, 0, 0, 1, 1, 1, 1, 2, 2, 3]))
    /// Relative frequency of each file extension among ordinary files.
    public var fileKinds: [String: Double] = ["py": 0.88, "pyi": 0.04, "txt": 0.04, "json": 0.04]
    /// Direct dependencies per package (out-degree of the dependency DAG).
    public var dependencies = Distribution(.empirical([0, 0, 0, 0, 1, 1, 1, 2, 2, 3, 4, 6]))
    /// Preferential attachment: a dependency is drawn with weight (in-degree + 1)^bias; 0 = uniform.
    public var attachmentBias: Double = 1.0
    /// Popularity weight by popularity rank (rank 1 = most depended-upon).
    public var popularity = Distribution(.zipf(s: 1.1, count: 1000))
    /// CPU seconds the generated `__init__.py` burns when imported.
    public var importCpuSeconds = Distribution(.lognormal(median: 0.02, sigma: 1.0), minimum: 0, maximum: 2)
    /// Bytes the generated `__init__.py` allocates, touches and keeps at import.
    public var importMemoryBytes = Distribution(.lognormal(median: 1_048_576, sigma: 1.0), minimum: 0, maximum: 268_435_456)
    /// CPU seconds the sdist build step (setup.py / in-tree backend) burns at install.
    public var installCpuSeconds = Distribution(.lognormal(median: 0.5, sigma: 0.8), minimum: 0, maximum: 30)
    /// Target ratio compressed/uncompressed for a package's text files.
    public var compressionRatio = Distribution(.normal(mean: 0.25, stddev: 0.05), minimum: 0.08, maximum: 0.74)
    /// Fraction of packages that carry a C-extension-like binary payload.
    public var nativeFraction: Double = 0.1
    /// Size in bytes of the binary payload, for packages that have one.
    public var nativeSizeBytes = Distribution(.lognormal(median: 262_144, sigma: 1.5), minimum: 4_096, maximum: 67_108_864)
    /// Target compression ratio of binary payloads (real `.so` files deflate to about 0.4).
    public var nativeCompressionRatio = Distribution(.constant(0.4), minimum: 0.02, maximum: 1)
    /// Also write an sdist (with `setup.py` and an in-tree build backend) for every release.
    public var sdists: Bool = false
    /// Fraction of packages published as sdist only, so pip must build them (implies their sdists).
    public var sdistOnlyFraction: Double = 0
    /// Template files (from `pipbench template`) to stamp packages from.
    public var templates: [String] = []
    /// Fraction of packages stamped from a template rather than drawn from the distributions.
    public var templateFraction: Double = 0
    /// `Requires-Python` of every release.
    public var requiresPython: String = ">=3.8"

    public init() {}

    enum CodingKeys: String, CodingKey {
        case seed, packages, namePrefix = "name_prefix", versionsPerPackage = "versions_per_package"
        case filesPerPackage = "files_per_package", fileSizeBytes = "file_size_bytes"
        case directoryDepth = "directory_depth", fileKinds = "file_kinds", dependencies
        case attachmentBias = "attachment_bias", popularity
        case importCpuSeconds = "import_cpu_seconds", importMemoryBytes = "import_memory_bytes"
        case installCpuSeconds = "install_cpu_seconds", compressionRatio = "compression_ratio"
        case nativeFraction = "native_fraction", nativeSizeBytes = "native_size_bytes"
        case nativeCompressionRatio = "native_compression_ratio", sdists
        case sdistOnlyFraction = "sdist_only_fraction", templates, templateFraction = "template_fraction"
        case requiresPython = "requires_python"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let unknown = Set(try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue))
            .subtracting(CodingKeys.allNames)
        if let first = unknown.sorted().first {
            throw DecodingError.dataCorrupted(.init(codingPath: [AnyKey(stringValue: first)], debugDescription: "unknown spec setting '\(first)'"))
        }
        func value<T: Decodable>(_ key: CodingKeys, _ fallback: T) throws -> T {
            try c.decodeIfPresent(T.self, forKey: key) ?? fallback
        }
        let d = BenchSpec()
        seed = try value(.seed, d.seed)
        packages = try value(.packages, d.packages)
        namePrefix = try value(.namePrefix, d.namePrefix)
        versionsPerPackage = try value(.versionsPerPackage, d.versionsPerPackage)
        filesPerPackage = try value(.filesPerPackage, d.filesPerPackage)
        fileSizeBytes = try value(.fileSizeBytes, d.fileSizeBytes)
        directoryDepth = try value(.directoryDepth, d.directoryDepth)
        fileKinds = try value(.fileKinds, d.fileKinds)
        dependencies = try value(.dependencies, d.dependencies)
        attachmentBias = try value(.attachmentBias, d.attachmentBias)
        popularity = try value(.popularity, d.popularity)
        importCpuSeconds = try value(.importCpuSeconds, d.importCpuSeconds)
        importMemoryBytes = try value(.importMemoryBytes, d.importMemoryBytes)
        installCpuSeconds = try value(.installCpuSeconds, d.installCpuSeconds)
        compressionRatio = try value(.compressionRatio, d.compressionRatio)
        nativeFraction = try value(.nativeFraction, d.nativeFraction)
        nativeSizeBytes = try value(.nativeSizeBytes, d.nativeSizeBytes)
        nativeCompressionRatio = try value(.nativeCompressionRatio, d.nativeCompressionRatio)
        sdists = try value(.sdists, d.sdists)
        sdistOnlyFraction = try value(.sdistOnlyFraction, d.sdistOnlyFraction)
        templates = try value(.templates, d.templates)
        templateFraction = try value(.templateFraction, d.templateFraction)
        requiresPython = try value(.requiresPython, d.requiresPython)
        try validate()
    }

    /// Rejects settings that cannot produce a valid package tree.
    public func validate() throws {
        func check(_ ok: Bool, _ message: String) throws {
            if !ok { throw PipBenchError.invalidSpec(message) }
        }
        try check(packages >= 1, "packages must be at least 1")
        try check(namePrefix.range(of: "^[a-z][a-z0-9]*$", options: .regularExpression) != nil,
                  "name_prefix must be lowercase letters and digits, starting with a letter")
        try check((0...1).contains(nativeFraction), "native_fraction must be in [0, 1]")
        try check((0...1).contains(sdistOnlyFraction), "sdist_only_fraction must be in [0, 1]")
        try check((0...1).contains(templateFraction), "template_fraction must be in [0, 1]")
        try check(templateFraction == 0 || !templates.isEmpty, "template_fraction needs at least one entry in templates")
        try check(!fileKinds.isEmpty && fileKinds.values.allSatisfy { $0 >= 0 } && fileKinds.values.reduce(0, +) > 0,
                  "file_kinds needs at least one positive weight")
        try check(attachmentBias >= 0, "attachment_bias must be >= 0")
    }

    /// Parses a YAML spec; unknown settings are an error so typos do not pass silently.
    public static func parse(yaml: String) throws -> BenchSpec {
        do {
            return try YAMLDecoder().decode(BenchSpec.self, from: yaml)
        } catch let error as PipBenchError {
            throw error
        } catch let DecodingError.dataCorrupted(context) {
            throw PipBenchError.invalidSpec(Self.describe(context))
        } catch let DecodingError.typeMismatch(_, context) {
            throw PipBenchError.invalidSpec(Self.describe(context))
        } catch let DecodingError.keyNotFound(key, context) {
            throw PipBenchError.invalidSpec("\(Self.describe(context)): missing '\(key.stringValue)'")
        } catch {
            throw PipBenchError.invalidSpec("\(error)")
        }
    }

    /// Reads and parses a YAML spec file.
    public static func load(path: String) throws -> BenchSpec {
        try parse(yaml: String(contentsOfFile: path, encoding: .utf8))
    }

    private static func describe(_ context: DecodingError.Context) -> String {
        let path = context.codingPath.map(\.stringValue).joined(separator: ".")
        return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
    }
}

extension BenchSpec.CodingKeys: CaseIterable {
    static var allNames: Set<String> { Set(allCases.map(\.stringValue)) }
}

/// A coding key for reading whichever keys a mapping has.
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
