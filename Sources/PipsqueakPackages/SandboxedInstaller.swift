import Foundation
import Logging
import PipsqueakCache
import PipsqueakCore
import PipsqueakSandbox
import SandboxSetup

/// Installs distributions into `<root>/<name>/<version>/site` with pip, in sandboxes: resolution and downloads
/// with a network only when the index is remote, builds and installs without, as an unprivileged uid whose only
/// writable directory is the install's staging directory. Finished trees are sealed read-only and renamed into
/// place, so an interrupted install never looks installed.
public struct SandboxedInstaller: PackageInstaller {
    public struct Settings: Sendable {
        public var python: String
        public var indexURL: String
        public var findLinks: String
        /// Hosts pip may use over plain HTTP (pip's `--trusted-host`).
        public var trustedHosts: [String]
        /// Unprivileged uid pip runs as; import measurements run as the next uid.
        public var installerUID: UInt32

        public init(python: String, indexURL: String, findLinks: String, trustedHosts: [String] = [], installerUID: UInt32) {
            self.python = python
            self.indexURL = indexURL
            self.findLinks = findLinks
            self.trustedHosts = trustedHosts
            self.installerUID = installerUID
        }
    }

    public let root: URL
    public let settings: Settings
    private let launcher: SandboxLauncher
    private let logger: Logger

    public init(root: URL, settings: Settings, launcher: SandboxLauncher, logger: Logger) {
        self.root = root
        self.settings = settings
        self.launcher = launcher
        self.logger = logger
    }

    private var pip: PipCommands {
        PipCommands(python: settings.python, indexURL: settings.indexURL, findLinks: settings.findLinks,
                    trustedHosts: settings.trustedHosts, uid: settings.installerUID)
    }

    public func directory(of ref: PackageRef) -> URL {
        root.appendingPathComponent(ref.name).appendingPathComponent(ref.version)
    }

    /// The directory a sandbox mounts at `ref.pathInSandbox`.
    public func siteDirectory(of ref: PackageRef) -> URL {
        directory(of: ref).appendingPathComponent("site")
    }

    private var stagingRoot: URL { root.appendingPathComponent(".staging") }

    // MARK: the store

    public func loadStore() async throws(PipsqueakError) -> [InstalledPackage] {
        let root = self.root, staging = stagingRoot, logger = self.logger
        do {
            return try await BlockingWork.run { () throws -> [InstalledPackage] in
                let manager = FileManager.default
                try manager.createDirectory(at: root, withIntermediateDirectories: true)
                try? manager.removeItem(at: staging)
                let decoder = JSONDecoder()
                decoder.dateDecodingStrategy = .iso8601
                var packages: [InstalledPackage] = []
                for name in (try? manager.contentsOfDirectory(atPath: root.path)) ?? [] where !name.hasPrefix(".") {
                    for version in (try? manager.contentsOfDirectory(atPath: root.appendingPathComponent(name).path)) ?? [] {
                        let meta = root.appendingPathComponent(name).appendingPathComponent(version).appendingPathComponent("meta.json")
                        guard let data = try? Data(contentsOf: meta), let package = try? decoder.decode(InstalledPackage.self, from: data) else {
                            logger.warning("removing package without metadata", metadata: ["package": "\(name)==\(version)"])
                            try? manager.removeItem(at: meta.deletingLastPathComponent())
                            continue
                        }
                        packages.append(package)
                    }
                }
                return packages
            }
        } catch {
            throw PipsqueakError(.internalError, "cannot read the package store at \(root.path): \(error)")
        }
    }

    public func save(_ package: InstalledPackage) async {
        let directory = directory(of: package.ref)
        await BlockingWork.run { try? StoreFiles.writeMeta(package, in: directory, sealed: true) }
    }

    public func remove(_ ref: PackageRef) async {
        let directory = directory(of: ref)
        let trash = stagingRoot.appendingPathComponent("trash-\(ref.name)-\(UUID().uuidString)")
        await BlockingWork.run {
            try? FileManager.default.createDirectory(at: trash.deletingLastPathComponent(), withIntermediateDirectories: true)
            // Rename first so a crash mid-delete never leaves a half-removed package that looks installed.
            if (try? AtomicFile.rename(directory, to: trash)) != nil {
                try? FileManager.default.removeItem(at: trash)
            }
            rmdir(directory.deletingLastPathComponent().path)
        }
    }

    // MARK: resolution

    public func resolve(requirements: [String]) async throws(PipsqueakError) -> [PackageRef] {
        let staging = try await makeStaging("resolve")
        defer { Self.discard(staging) }
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

    public func install(_ ref: PackageRef) async throws(PipsqueakError) -> InstalledPackage {
        let staging = try await makeStaging(ref.name)
        defer { Self.discard(staging) }
        let pip = self.pip
        // Downloading needs the index (a network only when it is remote); building and installing what was
        // downloaded runs package code and gets no network at all.
        let download = try await launcher.run(CommandRequest(
            label: "download-\(ref.name)", command: pip.download(ref), binds: pip.binds(staging: staging.path), network: pip.network,
            timeoutSeconds: 900, environment: pip.environment, uid: pip.uid), logger: logger)
        guard download.succeeded else {
            throw PipsqueakError(.installFailed, "\(ref) failed to download: \(Self.reason(download))",
                                 details: ["pip_output": download.tail(30)])
        }
        let result = try await launcher.run(CommandRequest(
            label: "install-\(ref.name)", command: pip.installDownloaded, binds: pip.binds(staging: staging.path), network: .none,
            timeoutSeconds: 900, environment: pip.environment, uid: pip.uid), logger: logger)
        guard result.succeeded else {
            throw PipsqueakError(.installFailed, "\(ref) failed to install: \(Self.reason(result))", details: ["pip_output": result.tail(30)])
        }
        let target = directory(of: ref)
        let timing = (download: PipCommands.commandSeconds(in: download.output) ?? download.seconds,
                      install: PipCommands.commandSeconds(in: result.output) ?? result.seconds)
        let package: InstalledPackage
        do {
            package = try await BlockingWork.run { () throws -> InstalledPackage in
                try Self.seal(ref, staging: staging, into: target, timing: timing)
            }
        } catch let error as PipsqueakError {
            throw error
        } catch {
            throw PipsqueakError(.installFailed, "\(ref): \(error)")
        }
        logger.info("installed package", metadata: ["package": "\(ref)", "bytes": "\(package.installedBytes)",
                                                    "seconds": "\(timing.download + timing.install)"])
        return package
    }

    /// Measures, seals and renames a finished staging directory into the store. Blocking file work.
    private static func seal(_ ref: PackageRef, staging: URL, into target: URL, timing: (download: Double, install: Double))
        throws -> InstalledPackage {
        let manager = FileManager.default
        let site = staging.appendingPathComponent("site")
        let downloads = staging.appendingPathComponent("download")
        let downloadBytes = StoreFiles.totals(of: downloads).bytes
        try? manager.removeItem(at: downloads)
        try? manager.removeItem(at: staging.appendingPathComponent("tmp"))
        guard manager.fileExists(atPath: site.path) else {
            throw PipsqueakError(.installFailed, "\(ref) installed no files")
        }
        let (bytes, files) = StoreFiles.totals(of: site)
        let now = Date()
        let package = InstalledPackage(name: ref.name, version: ref.version, downloadBytes: downloadBytes, installedBytes: bytes,
                                       files: files, downloadSeconds: timing.download, installSeconds: timing.install,
                                       importSeconds: nil, topLevel: TopLevelNames.find(in: site), installedAt: now, lastUsed: now)
        do {
            try StoreFiles.writeMeta(package, in: staging)
        } catch {
            throw PipsqueakError(.installFailed, "cannot record \(ref)'s metadata: \(error)")
        }
        try StoreFiles.sealReadOnly(staging)
        try manager.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try AtomicFile.rename(staging, to: target)
        return package
    }

    public func measureImport(of package: InstalledPackage, closure: [PackageRef]) async throws(PipsqueakError) -> Double? {
        let binds = closure.map { SandboxConfiguration.Bind(source: siteDirectory(of: $0).path, target: $0.pathInSandbox) }
        let script = """
            import sys, time
            sys.path[:0] = \(Self.pythonList(closure.map(\.pathInSandbox)))
            start = time.perf_counter()
            for name in \(Self.pythonList(package.topLevel)):
                try:
                    __import__(name)
                except Exception as error:
                    print("import_failed", name, repr(error))
            print("import_seconds", time.perf_counter() - start)
            """
        let result = try await launcher.run(CommandRequest(
            label: "import-\(package.name)", command: [settings.python, "-I", "-S", "-c", script], binds: binds,
            timeoutSeconds: 120, uid: settings.installerUID &+ 1, showSystemPackages: false), logger: logger)
        if result.output.contains("import_failed") {
            logger.warning("import measurement failed", metadata: ["package": "\(package.ref)", "output": "\(result.tail(5))"])
        }
        return result.output.split(separator: "\n").last { $0.hasPrefix("import_seconds ") }
            .flatMap { Double($0.dropFirst("import_seconds ".count)) }
    }

    // MARK: staging

    private func makeStaging(_ label: String) async throws(PipsqueakError) -> URL {
        let staging = stagingRoot.appendingPathComponent("\(label)-\(UUID().uuidString.prefix(8))")
        let uid = settings.installerUID, stagingRoot = self.stagingRoot
        do {
            try await BlockingWork.run { () throws in
                try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
                let temporary = staging.appendingPathComponent("tmp")
                try StoreFiles.checked(chmod(stagingRoot.path, 0o711), "chmod", stagingRoot.path)
                try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
                for path in [staging.path, temporary.path] {
                    try StoreFiles.checked(chown(path, uid, uid), "chown", path)
                }
            }
        } catch {
            Self.discard(staging)
            throw PipsqueakError(.internalError, "cannot prepare \(staging.path) for the installer: \(error)")
        }
        return staging
    }

    /// Removes a staging directory in the background (it may be large).
    private static func discard(_ staging: URL) {
        Task { await BlockingWork.run { try? FileManager.default.removeItem(at: staging) } }
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
