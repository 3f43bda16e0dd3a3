/// The measured shape of a real package, written by `pipbench template` and
/// used by the generator to stamp artificial packages that look like it.
public struct PackageTemplate: Codable, Sendable, Equatable {
    /// One file of the real package, relative to the install root (site-packages).
    public struct File: Codable, Sendable, Equatable {
        public var path: String
        public var size: Int
        public var compressedSize: Int?

        public init(path: String, size: Int, compressedSize: Int? = nil) {
            self.path = path
            self.size = size
            self.compressedSize = compressedSize
        }
    }

    public var name: String
    public var version: String
    /// Top-level import names (from `top_level.txt` or the file tree).
    public var topLevel: [String]
    public var files: [File]
    /// Names of the direct dependencies (`Requires-Dist` without extras or markers).
    public var dependencies: [String]
    /// File-size histogram: bucket upper bound in bytes (powers of 4) to file count.
    public var sizeHistogram: [String: Int]
    public var maxDirectoryDepth: Int
    /// Compressed / uncompressed over the wheel's files, when read from a wheel.
    public var compressionRatio: Double?
    /// Measured wall-clock seconds of `import` in a fresh interpreter, if measured.
    public var importSeconds: Double?
    /// Measured CPU seconds of that import, if measured.
    public var importCpuSeconds: Double?
    /// Measured growth of the resident set during that import, if measured.
    public var importMemoryBytes: Int?

    public init(name: String, version: String, topLevel: [String], files: [File], dependencies: [String]) {
        self.name = name
        self.version = version
        self.topLevel = topLevel
        self.files = files
        self.dependencies = dependencies
        self.sizeHistogram = Self.histogram(files.map(\.size))
        self.maxDirectoryDepth = files.map { $0.path.split(separator: "/").count - 1 }.max() ?? 0
        let compressed = files.compactMap(\.compressedSize)
        if compressed.count == files.count, !files.isEmpty {
            let total = files.reduce(0) { $0 + $1.size }
            compressionRatio = total == 0 ? nil : Double(compressed.reduce(0, +)) / Double(total)
        }
    }

    enum CodingKeys: String, CodingKey {
        case name, version, topLevel = "top_level", files, dependencies, sizeHistogram = "size_histogram"
        case maxDirectoryDepth = "max_directory_depth", compressionRatio = "compression_ratio"
        case importSeconds = "import_seconds", importCpuSeconds = "import_cpu_seconds", importMemoryBytes = "import_memory_bytes"
    }

    /// Bucket counts keyed by the bucket's upper bound (1 KiB, 4 KiB, 16 KiB, ...).
    static func histogram(_ sizes: [Int]) -> [String: Int] {
        var buckets: [String: Int] = [:]
        for size in sizes {
            var bound = 1024
            while size > bound { bound *= 4 }
            buckets[String(bound), default: 0] += 1
        }
        return buckets
    }
}
