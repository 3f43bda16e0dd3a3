import Foundation
import PipsqueakCore
import PipsqueakSandbox
import SandboxSetup

/// The pip command lines the install cache runs inside sandboxes, and the sandbox they need.
struct PipCommands: Sendable {
    var python: String
    var indexURL: String
    var findLinks: String
    var trustedHosts: [String] = []
    var uid: UInt32

    static let output = "/out"
    static let findLinksInSandbox = "/find-links"
    static let indexInSandbox = "/index"

    /// A `file://` index is mounted at `/index`; a remote one is used as it is.
    var indexURLInSandbox: String { localIndexDirectory == nil ? indexURL : "file://\(Self.indexInSandbox)" }

    private var common: [String] {
        var args = ["--disable-pip-version-check", "--no-input", "--no-cache-dir", "--quiet", "--index-url", indexURLInSandbox]
        if !findLinks.isEmpty { args += ["--find-links", Self.findLinksInSandbox] }
        for host in trustedHosts { args += ["--trusted-host", host] }
        return args
    }

    /// Resolves `/out/requirements.txt` into `/out/report.json` without installing anything.
    var resolve: [String] {
        [python, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--report", "\(Self.output)/report.json"]
            + common + ["-r", "\(Self.output)/requirements.txt"]
    }

    /// Downloads one distribution to `/out/download`.
    func download(_ ref: PackageRef) -> [String] {
        timed([python, "-m", "pip", "download", "--no-deps", "-d", "\(Self.output)/download"] + common + ["\(ref.name)==\(ref.version)"])
    }

    /// Installs what `download` fetched into `/out/site`, alone, with no index and no build isolation.
    var installDownloaded: [String] {
        let install = [python, "-m", "pip", "install", "--no-deps", "--no-index", "--no-build-isolation", "--disable-pip-version-check",
                       "--no-input", "--no-cache-dir", "--quiet", "--target", "\(Self.output)/site"]
        let glob = "\(Self.output)/download/*"
        return ["/bin/sh", "-c", "set -e; t0=$(date +%s%N); \(install.map(Self.quote).joined(separator: " ")) \(glob); "
                + "echo \"\(Self.timingMarker) $t0 $(date +%s%N)\""]
    }

    /// `command` in a shell that prints `pipsqueak-timing START END` (nanoseconds since the epoch) when it succeeds.
    private func timed(_ command: [String]) -> [String] {
        ["/bin/sh", "-c", "set -e; t0=$(date +%s%N); \(command.map(Self.quote).joined(separator: " ")); "
            + "echo \"\(Self.timingMarker) $t0 $(date +%s%N)\""]
    }

    private static func quote(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    static let timingMarker = "pipsqueak-timing"

    /// Seconds the command itself took, from its timing line (sandbox start-up excluded).
    static func commandSeconds(in output: String) -> Double? {
        guard let line = output.split(whereSeparator: \.isNewline).last(where: { $0.hasPrefix(timingMarker + " ") }) else { return nil }
        let stamps = line.split(separator: " ").dropFirst().compactMap { Int64($0) }
        guard stamps.count == 2, stamps[0] <= stamps[1] else { return nil }
        return Double(stamps[1] - stamps[0]) / 1e9
    }

    /// What a pip sandbox mounts: its staging directory writable, local indexes read-only.
    func binds(staging: String) -> [SandboxConfiguration.Bind] {
        var binds = [SandboxConfiguration.Bind(source: staging, target: Self.output, writable: true)]
        if !findLinks.isEmpty { binds.append(.init(source: findLinks, target: Self.findLinksInSandbox)) }
        if let path = localIndexDirectory { binds.append(.init(source: path, target: Self.indexInSandbox)) }
        return binds
    }

    /// A network only when the index is remote, and then only the outbound one that cannot reach the host.
    var network: HandlerManifest.Network { localIndexDirectory == nil ? .outbound : .none }

    private var localIndexDirectory: String? {
        guard indexURL.hasPrefix("file://") else { return nil }
        let path = String(indexURL.dropFirst("file://".count))
        return path.hasSuffix("/") ? String(path.dropLast()) : path
    }

    /// pip unpacks and builds under TMPDIR; the staging directory has room, the sandbox's small /tmp has not.
    var environment: [String: String] { ["PIP_NO_CACHE_DIR": "1", "TMPDIR": "\(Self.output)/tmp"] }
}
