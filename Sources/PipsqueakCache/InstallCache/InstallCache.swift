import Foundation
import Logging
import PipsqueakCore
import PipsqueakSandbox
import SandboxSetup

/// Tier 3: every distribution installed once, read-only, in `packages/<name>/<version>/site`, shared by
/// every handler that needs it. Resolution and installation run pip inside sandboxes.
public actor InstallCache {
    public struct Settings: Sendable {
        public var python: String
        public var indexURL: String
        public var findLinks: String
        /// Hosts pip may use over plain HTTP (pip's `--trusted-host`).
        public var trustedHosts: [String]
        /// 0 means unlimited.
        public var budgetBytes: Int64
        /// Unprivileged uid pip runs as.
        public var installerUID: UInt32

        public init(python: String, indexURL: String, findLinks: String, trustedHosts: [String] = [], budgetBytes: Int64,
                    installerUID: UInt32) {
            self.python = python
            self.indexURL = indexURL
            self.findLinks = findLinks
            self.trustedHosts = trustedHosts
            self.budgetBytes = budgetBytes
            self.installerUID = installerUID
        }
    }

    public struct Stats: Sendable, Codable {
        public var hits = 0
        public var misses = 0
        public var evictions = 0
        public var packages = 0
        public var installedBytes: Int64 = 0
    }

    public let root: URL
    public let settings: Settings
    private let launcher: SandboxLauncher
    private let logger: Logger
    private var installed: [PackageRef: InstalledPackage] = [:]
    private var inFlight: [PackageRef: Task<InstalledPackage, any Error>] = [:]
    private var stats = Stats()

    private var pip: PipCommands {
        PipCommands(python: settings.python, indexURL: settings.indexURL, findLinks: settings.findLinks,
                    trustedHosts: settings.trustedHosts, uid: settings.installerUID)
    }

    /// Loads the store, discarding staging directories of interrupted installs.
    public init(root: URL, settings: Settings, launcher: SandboxLauncher, logger: Logger) throws {
        self.root = root
        self.settings = settings
        self.launcher = launcher
        self.logger = logger
        let manager = FileManager.default
        try manager.createDirectory(at: root, withIntermediateDirectories: true)
        try? manager.removeItem(at: root.appendingPathComponent(".staging"))
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        for name in (try? manager.contentsOfDirectory(atPath: root.path)) ?? [] where !name.hasPrefix(".") {
            for version in (try? manager.contentsOfDirectory(atPath: root.appendingPathComponent(name).path)) ?? [] {
                let meta = root.appendingPathComponent(name).appendingPathComponent(version).appendingPathComponent("meta.json")
                guard let data = try? Data(contentsOf: meta), let package = try? decoder.decode(InstalledPackage.self, from: data) else {
                    logger.warning("removing package without metadata", metadata: ["package": "\(name)==\(version)"])
                    try? manager.removeItem(at: meta.deletingLastPathComponent())
                    continue
                }
                installed[package.ref] = package
            }
        }
    }

    public nonisolated func directory(of ref: PackageRef) -> URL {
        root.appendingPathComponent(ref.name).appendingPathComponent(ref.version)
    }

    /// The directory a handler's sandbox puts on `sys.path` for `ref`.
    public nonisolated func siteDirectory(of ref: PackageRef) -> URL {
        directory(of: ref).appendingPathComponent("site")
    }

    public func isInstalled(_ ref: PackageRef) -> Bool { installed[ref] != nil }

    public func list() -> [InstalledPackage] { installed.values.sorted { $0.ref < $1.ref } }

    public func snapshot() -> Stats {
        var result = stats
        result.packages = installed.count
        result.installedBytes = installed.values.reduce(0) { $0 + $1.installedBytes }
        return result
    }

    // MARK: resolution

    /// Resolves requirements into the exact closure of distributions, with pip's resolver in a sandbox.
    public func resolve(requirements: [String]) async throws(PipsqueakError) -> [PackageRef] {
        let staging = try makeStaging("resolve")
        defer { try? FileManager.default.removeItem(at: staging) }
        do {
            try (requirements.joined(separator: "\n") + "\n").write(to: staging.appendingPathComponent("requirements.txt"),
                                                                     atomically: true, encoding: .utf8)
        } catch {
            throw PipsqueakError(.internalError, "cannot write requirements: \(error)")
        }
        let pip = self.pip
        let result = try await launcher.run(CommandRequest(
            label: "resolve", command: pip.resolve, binds: pip.binds(staging: staging.path), network: pip.network,
            timeoutSeconds: 300, environment: pip.environment, uid: settings.installerUID), logger: logger)
        guard result.succeeded else {
            throw PipsqueakError(.unresolvableRequirements, "cannot resolve requirements: \(Self.reason(result))",
                                 details: ["pip_output": result.tail(30)])
        }
        return try Self.parseReport(staging.appendingPathComponent("report.json"))
    }

    static func parseReport(_ url: URL) throws(PipsqueakError) -> [PackageRef] {
        guard let data = try? Data(contentsOf: url),
              let report = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let items = report["install"] as? [[String: Any]] else {
            throw PipsqueakError(.unresolvableRequirements, "pip produced no resolution report")
        }
        var refs: [PackageRef] = []
        for item in items {
            guard let metadata = item["metadata"] as? [String: Any], let name = metadata["name"] as? String,
                  let version = metadata["version"] as? String else { continue }
            let ref = PackageRef(name: name, version: version)
            guard ref.isSafeForPaths else {
                throw PipsqueakError(.unresolvableRequirements, "refusing distribution with unusual name or version: \(ref)")
            }
            refs.append(ref)
        }
        return refs.sorted()
    }

    // MARK: installation

    /// Installs every missing distribution of a closure (each once, even under concurrent calls), then measures
    /// import times not yet known. Returns how many distributions had to be installed.
    @discardableResult
    public func ensureInstalled(_ closure: [PackageRef], progress: @escaping @Sendable (String) -> Void = { _ in })
        async throws(PipsqueakError) -> Int {
        var installedNow = 0
        for (index, ref) in closure.enumerated() {
            if installed[ref] != nil {
                stats.hits += 1
                continue
            }
            progress("installing \(ref.name) \(ref.version) (\(index + 1)/\(closure.count))")
            let task: Task<InstalledPackage, any Error>
            if let running = inFlight[ref] {
                task = running
            } else {
                stats.misses += 1
                installedNow += 1
                let pip = self.pip, launcher = self.launcher, logger = self.logger
                let staging = try makeStaging(ref.name)
                let target = directory(of: ref)
                task = Task { try await Self.install(ref, pip: pip, staging: staging, target: target, launcher: launcher, logger: logger) }
                inFlight[ref] = task
            }
            do {
                let package = try await task.value
                installed[ref] = package
                inFlight[ref] = nil
            } catch {
                inFlight[ref] = nil
                throw (error as? PipsqueakError) ?? PipsqueakError(.installFailed, "\(ref): \(error)")
            }
        }
        try await measureImports(closure, progress: progress)
        touch(closure)
        return installedNow
    }

    private static func install(_ ref: PackageRef, pip: PipCommands, staging: URL, target: URL, launcher: SandboxLauncher,
                                logger: Logger) async throws -> InstalledPackage {
        defer { try? FileManager.default.removeItem(at: staging) }
        // Downloading needs the index (a network only when it is remote); building and installing what was
        // downloaded runs package code and gets no network at all.
        let download = try await launcher.run(CommandRequest(
            label: "download-\(ref.name)", command: pip.download(ref), binds: pip.binds(staging: staging.path), network: pip.network,
            timeoutSeconds: 900, environment: pip.environment, uid: pip.uid), logger: logger)
        guard download.succeeded else {
            throw PipsqueakError(.installFailed, "\(ref) failed to download: \(reason(download))", details: ["pip_output": download.tail(30)])
        }
        let result = try await launcher.run(CommandRequest(
            label: "install-\(ref.name)", command: pip.installDownloaded, binds: pip.binds(staging: staging.path), network: .none,
            timeoutSeconds: 900, environment: pip.environment, uid: pip.uid), logger: logger)
        guard result.succeeded else {
            throw PipsqueakError(.installFailed, "\(ref) failed to install: \(reason(result))", details: ["pip_output": result.tail(30)])
        }
        let site = staging.appendingPathComponent("site")
        let downloads = staging.appendingPathComponent("download")
        let downloadBytes = StoreFiles.totals(of: downloads).bytes
        try? FileManager.default.removeItem(at: downloads)
        try? FileManager.default.removeItem(at: staging.appendingPathComponent("tmp"))
        guard FileManager.default.fileExists(atPath: site.path) else {
            throw PipsqueakError(.installFailed, "\(ref) installed no files")
        }
        let (bytes, files) = StoreFiles.totals(of: site)
        let now = Date()
        let package = InstalledPackage(name: ref.name, version: ref.version, downloadBytes: downloadBytes, installedBytes: bytes, files: files,
                                       downloadSeconds: PipCommands.commandSeconds(in: download.output) ?? download.seconds,
                                       installSeconds: PipCommands.commandSeconds(in: result.output) ?? result.seconds,
                                       importSeconds: nil, topLevel: TopLevelNames.find(in: site),
                                       installedAt: now, lastUsed: now)
        do {
            try StoreFiles.writeMeta(package, in: staging)
        } catch {
            throw PipsqueakError(.installFailed, "cannot record \(ref)'s metadata: \(error)")
        }
        try StoreFiles.sealReadOnly(staging)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try AtomicFile.rename(staging, to: target)
        logger.info("installed package", metadata: ["package": "\(ref)", "bytes": "\(bytes)", "seconds": "\(result.seconds)"])
        return package
    }

    /// Imports each distribution's top-level modules once in a sandbox with the closure on `sys.path`.
    private func measureImports(_ closure: [PackageRef], progress: @Sendable (String) -> Void) async throws(PipsqueakError) {
        for ref in closure where installed[ref]?.importSeconds == nil {
            guard let package = installed[ref] else { continue }
            if package.topLevel.isEmpty {
                installed[ref]?.importSeconds = 0
                continue
            }
            progress("measuring import of \(ref.name)")
            let binds = closure.map { SandboxCommandPaths.bind(siteDirectory(of: $0), for: $0) }
            let script = """
                import sys, time
                sys.path[:0] = \(Self.pythonList(closure.map { SandboxCommandPaths.path(for: $0) }))
                start = time.perf_counter()
                for name in \(Self.pythonList(package.topLevel)):
                    try:
                        __import__(name)
                    except Exception as error:
                        print("import_failed", name, repr(error))
                print("import_seconds", time.perf_counter() - start)
                """
            let result = try await launcher.run(CommandRequest(
                label: "import-\(ref.name)", command: [settings.python, "-I", "-S", "-c", script], binds: binds,
                timeoutSeconds: 120, uid: settings.installerUID &+ 1, showSystemPackages: false), logger: logger)
            let seconds = result.output.split(separator: "\n").last { $0.hasPrefix("import_seconds ") }
                .flatMap { Double($0.dropFirst("import_seconds ".count)) }
            if result.output.contains("import_failed") {
                logger.warning("import measurement failed", metadata: ["package": "\(ref)", "output": "\(result.tail(5))"])
            }
            installed[ref]?.importSeconds = seconds ?? 0
            if let updated = installed[ref] { try? StoreFiles.writeMeta(updated, in: directory(of: ref), sealed: true) }
        }
    }

    // MARK: store management

    /// Marks a closure as just used (for LRU eviction).
    public func touch(_ closure: [PackageRef]) {
        let now = Date()
        for ref in closure { installed[ref]?.lastUsed = now }
    }

    /// Removes distributions outside `keep`; never one in `inUse`. Returns what it removed.
    public func collectGarbage(keep: Set<PackageRef>, inUse: Set<PackageRef>) -> [PackageRef] {
        let victims = installed.keys.filter { !keep.contains($0) && !inUse.contains($0) && inFlight[$0] == nil }.sorted()
        for ref in victims { remove(ref) }
        return victims
    }

    /// Removes least-recently-used distributions not in use until the store fits the disk budget.
    public func enforceBudget(inUse: Set<PackageRef>) -> [PackageRef] {
        guard settings.budgetBytes > 0 else { return [] }
        let candidates = installed.values.map { (ref: $0.ref, lastUsed: $0.lastUsed, bytes: $0.installedBytes) }
        let victims = InstallCachePolicy.evictions(candidates, inUse: inUse, budgetBytes: settings.budgetBytes)
        for ref in victims {
            stats.evictions += 1
            remove(ref)
        }
        return victims
    }

    private func remove(_ ref: PackageRef) {
        guard installed.removeValue(forKey: ref) != nil else { return }
        let directory = directory(of: ref)
        let trash = root.appendingPathComponent(".staging").appendingPathComponent("trash-\(ref.name)-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: trash.deletingLastPathComponent(), withIntermediateDirectories: true)
        // Rename first so a crash mid-delete never leaves a half-removed package that looks installed.
        if (try? AtomicFile.rename(directory, to: trash)) != nil {
            try? FileManager.default.removeItem(at: trash)
        }
        rmdir(directory.deletingLastPathComponent().path)
        logger.info("removed package", metadata: ["package": "\(ref)"])
    }

    private func makeStaging(_ label: String) throws(PipsqueakError) -> URL {
        let staging = root.appendingPathComponent(".staging").appendingPathComponent("\(label)-\(UUID().uuidString.prefix(8))")
        do {
            try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        } catch {
            throw PipsqueakError(.internalError, "cannot create \(staging.path): \(error)")
        }
        let temporary = staging.appendingPathComponent("tmp")
        do {
            try StoreFiles.checked(chmod(root.appendingPathComponent(".staging").path, 0o711), "chmod", ".staging")
            try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
            for path in [staging.path, temporary.path] {
                try StoreFiles.checked(chown(path, settings.installerUID, settings.installerUID), "chown", path)
            }
        } catch {
            try? FileManager.default.removeItem(at: staging)
            throw PipsqueakError(.internalError, "cannot prepare \(staging.path) for the installer: \(error)")
        }
        return staging
    }

    /// A Python list literal of plain strings.
    static func pythonList(_ items: [String]) -> String {
        "[" + items.map { "'" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'" }
            .joined(separator: ", ") + "]"
    }

    private static func reason(_ result: CommandResult) -> String {
        if result.timedOut { return "pip timed out" }
        if result.outOfMemory { return "pip ran out of memory" }
        let lines = result.output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let error = lines.last { $0.hasPrefix("ERROR:") || $0.hasPrefix("error:") } ?? lines.last ?? "pip failed"
        return error + " (exit \(result.exitCode.map(String.init) ?? "?"))"
    }
}

/// Where a package's site directory appears inside sandboxes.
public enum SandboxCommandPaths {
    public static func path(for ref: PackageRef) -> String { "/packages/\(ref.name)-\(ref.version)" }
    static func bind(_ site: URL, for ref: PackageRef) -> SandboxConfiguration.Bind {
        .init(source: site.path, target: path(for: ref))
    }
}
