import Foundation

/// `pipbench analyze --imports DIR`: which distributions a corpus of Python sources imports, and the
/// cache hit ratio a cache of the k most popular distributions would reach.
///
/// Each top-level entry of DIR (a file or a directory) is one application, like one handler.
public struct ImportStudy: Codable, Sendable {
    /// One row of the hit-ratio curve.
    public struct CachePoint: Codable, Sendable, Equatable {
        /// Number of distributions cached (the most imported first).
        public var cached: Int
        /// Fraction of (application, distribution) imports that hit the cache.
        public var importHitRatio: Double
        /// Fraction of applications whose every distribution is cached.
        public var applicationHitRatio: Double
    }

    public var applications = 0
    public var applicationsWithThirdPartyImports = 0
    /// Distribution → number of applications importing it, most popular first.
    public var popularity: [String: Int] = [:]
    public var curve: [CachePoint] = []

    /// Module names whose distribution is named differently.
    public static let knownAliases: [String: String] = [
        "yaml": "pyyaml", "cv2": "opencv-python", "sklearn": "scikit-learn", "PIL": "pillow", "bs4": "beautifulsoup4",
        "dateutil": "python-dateutil", "jwt": "pyjwt", "google": "protobuf", "attr": "attrs", "Crypto": "pycryptodome",
        "OpenSSL": "pyopenssl", "dotenv": "python-dotenv", "magic": "python-magic", "skimage": "scikit-image",
        "serial": "pyserial", "usb": "pyusb", "zmq": "pyzmq", "psycopg2": "psycopg2-binary", "MySQLdb": "mysqlclient",
        "git": "gitpython", "jose": "python-jose", "multipart": "python-multipart", "socks": "pysocks",
    ]

    /// - Parameters:
    ///   - moduleMap: module → distribution, e.g. from wheels' `top_level.txt` (see `moduleMap(fromWheelsIn:)`).
    ///   - standardLibrary: modules to ignore.
    public static func run(corpus: URL, moduleMap: [String: String], standardLibrary: Set<String>) throws -> ImportStudy {
        let fm = FileManager.default
        var study = ImportStudy()
        var perApplication: [Set<String>] = []
        for entry in try fm.contentsOfDirectory(atPath: corpus.path).sorted() where !entry.hasPrefix(".") {
            let url = corpus.appendingPathComponent(entry)
            let sources = pythonFiles(at: url)
            guard !sources.isEmpty else { continue }
            let local = Set(sources.flatMap { localModuleNames($0, root: url) })
            var distributions = Set<String>()
            for source in sources {
                guard let text = try? String(contentsOf: source, encoding: .utf8) else { continue }
                for module in importedModules(text) where !standardLibrary.contains(module) && !local.contains(module)
                    && !python2StandardLibrary.contains(module) {
                    if let known = moduleMap[module] ?? knownAliases[module] {
                        distributions.insert(known)
                    } else if !module.hasPrefix("_") {  // private C modules (`_yaml`) belong to a mapped package
                        distributions.insert(SimpleIndex.normalize(module))
                    }
                }
            }
            perApplication.append(distributions)
        }
        study.applications = perApplication.count
        study.applicationsWithThirdPartyImports = perApplication.filter { !$0.isEmpty }.count
        for set in perApplication { for d in set { study.popularity[d, default: 0] += 1 } }
        let ranked = study.popularity.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map(\.key)
        let totalImports = perApplication.reduce(0) { $0 + $1.count }
        var sizes: [Int] = []
        var k = 1
        while k < ranked.count { sizes.append(k); k *= 2 }
        sizes.append(ranked.count)
        for size in sizes where size > 0 {
            let cached = Set(ranked.prefix(size))
            let hits = perApplication.reduce(0) { $0 + $1.intersection(cached).count }
            let full = perApplication.filter { !$0.isEmpty && $0.isSubset(of: cached) }.count
            study.curve.append(CachePoint(
                cached: size,
                importHitRatio: totalImports == 0 ? 0 : Double(hits) / Double(totalImports),
                applicationHitRatio: study.applicationsWithThirdPartyImports == 0 ? 0 : Double(full) / Double(study.applicationsWithThirdPartyImports)))
        }
        return study
    }

    /// Top-level module names of `import a.b` and `from a.b import c` statements (relative imports skipped).
    /// Lines inside triple-quoted strings are skipped, so prose such as "import the module" does not count.
    static func importedModules(_ source: String) -> Set<String> {
        var modules = Set<String>()
        var inString = false
        for raw in source.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            let quotes = line.components(separatedBy: "\"\"\"").count - 1 + line.components(separatedBy: "\'\'\'").count - 1
            defer { if quotes % 2 == 1 { inString.toggle() } }
            if inString || quotes > 0 { continue }
            if line.hasPrefix("import ") {
                for part in line.dropFirst(7).split(separator: "#")[0].split(separator: ",") {
                    if let name = topLevel(part.split(separator: " ").first ?? part) { modules.insert(name) }
                }
            } else if line.hasPrefix("from "), line.contains(" import ") {
                let rest = line.dropFirst(5).trimmingCharacters(in: .whitespaces)
                if !rest.hasPrefix("."), let name = topLevel(Substring(rest)) { modules.insert(name) }
            }
        }
        return modules
    }

    /// Python 2 standard-library names still found in compatibility fallbacks.
    static let python2StandardLibrary: Set<String> = [
        "StringIO", "cStringIO", "ConfigParser", "_winreg", "dummy_threading", "urllib2", "urlparse", "httplib",
        "cPickle", "Queue", "__builtin__", "thread", "commands", "HTMLParser", "cookielib", "Cookie", "htmlentitydefs",
        "SocketServer", "SimpleHTTPServer", "BaseHTTPServer", "xmlrpclib", "copy_reg", "UserDict", "md5", "sha",
        "sets", "exceptions", "new", "imp", "distutils", "asyncore", "asynchat",
    ]

    private static func topLevel(_ part: Substring) -> String? {
        let trimmed = part.trimmingCharacters(in: .whitespaces)
        let name = trimmed.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        guard let first = name.first, !first.isNumber else { return nil }
        return String(name)
    }

    static func pythonFiles(at url: URL) -> [URL] {
        if url.pathExtension == "py" { return [url] }
        guard let walker = FileManager.default.enumerator(at: url, includingPropertiesForKeys: nil) else { return [] }
        return walker.compactMap { $0 as? URL }.filter { $0.pathExtension == "py" }
    }

    /// Names the application's own files and folders provide, so `import helpers` is not a distribution.
    static func localModuleNames(_ file: URL, root: URL) -> [String] {
        let relative = file.path.dropFirst(root.deletingLastPathComponent().path.count)
        return relative.split(separator: "/").map { $0.hasSuffix(".py") ? String($0.dropLast(3)) : String($0) }
    }

    /// module → distribution from every wheel's `top_level.txt` (or its top-level paths) below `directory`.
    public static func moduleMap(fromWheelsIn directory: URL) -> [String: String] {
        var map: [String: String] = [:]
        guard let walker = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil) else { return map }
        for case let url as URL in walker where url.pathExtension == "whl" {
            guard let zip = try? ZipReader(Array((try? Data(contentsOf: url)) ?? Data())) else { continue }
            let project = SimpleIndex.normalize(String(url.lastPathComponent.split(separator: "-")[0]))
            let topLevel = zip.entries.first { $0.path.hasSuffix(".dist-info/top_level.txt") }
                .flatMap { try? zip.contents(of: $0) }
                .map { String(decoding: $0, as: UTF8.self).split(whereSeparator: \.isNewline).map(String.init) }
                ?? zip.entries.compactMap { entry -> String? in
                    let first = entry.path.split(separator: "/")[0]
                    return first.hasSuffix(".dist-info") || first.hasSuffix(".data") ? nil : String(first.split(separator: ".")[0])
                }
            for module in topLevel where !module.isEmpty { map[module] = project }
        }
        return map
    }

    /// The interpreter's `sys.stdlib_module_names`, or a built-in fallback.
    public static func standardLibrary(python: String = "/usr/bin/python3") -> Set<String> {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", "import sys; print('\\n'.join(sorted(sys.stdlib_module_names)))"]
        let pipe = Pipe()
        process.standardOutput = pipe
        if (try? process.run()) != nil {
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            if process.terminationStatus == 0 {
                return Set(String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).map(String.init)).union(["__future__"])
            }
        }
        return ["os", "sys", "json", "re", "time", "math", "random", "collections", "itertools", "functools", "typing",
                "datetime", "logging", "subprocess", "pathlib", "io", "base64", "hashlib", "urllib", "http", "__future__"]
    }

    public func report() -> String {
        var lines = ["applications: \(applications) (\(applicationsWithThirdPartyImports) import third-party distributions)",
                     "distinct distributions: \(popularity.count)", "", "top distributions:"]
        for (name, count) in popularity.sorted(by: { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }).prefix(20) {
            lines.append("  " + name.padded(30) + " \(count)")
        }
        lines += ["", "cached   import hit ratio   application hit ratio"]
        for p in curve {
            lines.append(String(format: "%6d   %16.3f   %21.3f", p.cached, p.importHitRatio, p.applicationHitRatio))
        }
        return lines.joined(separator: "\n")
    }
}
