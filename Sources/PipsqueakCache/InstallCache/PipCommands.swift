import Foundation
import PipsqueakCore
import PipsqueakSandbox
import SandboxSetup

/// The pip command lines the install cache runs inside sandboxes, and the sandbox they need.
struct PipCommands: Sendable {
    var python: String
    var indexURL: String
    var findLinks: String
    var uid: UInt32

    static let output = "/out"
    static let findLinksInSandbox = "/find-links"
    static let indexInSandbox = "/index"

    /// A `file://` index is mounted at `/index`; a remote one is used as it is.
    var indexURLInSandbox: String { localIndexDirectory == nil ? indexURL : "file://\(Self.indexInSandbox)" }

    private var common: [String] {
        var args = ["--disable-pip-version-check", "--no-input", "--no-cache-dir", "--quiet", "--index-url", indexURLInSandbox]
        if !findLinks.isEmpty { args += ["--find-links", Self.findLinksInSandbox] }
        return args
    }

    /// Resolves `/out/requirements.txt` into `/out/report.json` without installing anything.
    var resolve: [String] {
        [python, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--report", "\(Self.output)/report.json"]
            + common + ["-r", "\(Self.output)/requirements.txt"]
    }

    /// Downloads one distribution to `/out/download`, then installs it alone into `/out/site`; prints
    /// `pipsqueak-timing START DOWNLOADED INSTALLED` (nanoseconds since the epoch) at the end.
    func install(_ ref: PackageRef) -> [String] {
        let quote: (String) -> String = { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let download = ([python, "-m", "pip", "download", "--no-deps", "-d", "\(Self.output)/download"] + common + ["\(ref.name)==\(ref.version)"])
            .map(quote).joined(separator: " ")
        let install = [python, "-m", "pip", "install", "--no-deps", "--no-index", "--no-build-isolation", "--disable-pip-version-check",
                       "--no-input", "--no-cache-dir", "--quiet", "--target", "\(Self.output)/site"].map(quote).joined(separator: " ")
        return ["/bin/sh", "-c", "set -e; t0=$(date +%s%N); \(download); t1=$(date +%s%N); \(install) \(Self.output)/download/*; "
                + "echo \"\(Self.timingMarker) $t0 $t1 $(date +%s%N)\""]
    }

    static let timingMarker = "pipsqueak-timing"

    /// Download and install seconds from the install script's timing line.
    static func phaseSeconds(in output: String) -> (download: Double, install: Double)? {
        guard let line = output.split(whereSeparator: \.isNewline).last(where: { $0.hasPrefix(timingMarker + " ") }) else { return nil }
        let stamps = line.split(separator: " ").dropFirst().compactMap { Int64($0) }
        guard stamps.count == 3, stamps[0] <= stamps[1], stamps[1] <= stamps[2] else { return nil }
        return (Double(stamps[1] - stamps[0]) / 1e9, Double(stamps[2] - stamps[1]) / 1e9)
    }

    /// What a pip sandbox mounts: its staging directory writable, local indexes read-only.
    func binds(staging: String) -> [SandboxConfiguration.Bind] {
        var binds = [SandboxConfiguration.Bind(source: staging, target: Self.output, writable: true)]
        if !findLinks.isEmpty { binds.append(.init(source: findLinks, target: Self.findLinksInSandbox)) }
        if let path = localIndexDirectory { binds.append(.init(source: path, target: Self.indexInSandbox)) }
        return binds
    }

    /// Network only when the index is remote.
    var network: HandlerManifest.Network { localIndexDirectory == nil ? .host : .none }

    private var localIndexDirectory: String? {
        guard indexURL.hasPrefix("file://") else { return nil }
        let path = String(indexURL.dropFirst("file://".count))
        return path.hasSuffix("/") ? String(path.dropLast()) : path
    }

    /// pip unpacks and builds under TMPDIR; the staging directory has room, the sandbox's small /tmp has not.
    var environment: [String: String] { ["PIP_NO_CACHE_DIR": "1", "TMPDIR": "\(Self.output)/tmp"] }
}
