import Foundation
import Logging
import NIOPosix
import PipsqueakCore
import PipsqueakSandbox
import SandboxSetup
import Synchronization

/// Runs the package study's pip commands and import probes in Pipsqueak sandboxes, never on the host:
/// installing and importing a package runs its code. Needs root (namespaces and cgroups).
public final class StudySandbox: Sendable {
    public struct Settings: Sendable {
        public var python = "/usr/bin/python3"
        /// `pipsqueak-sandbox`; empty looks next to the running executable.
        public var helperPath = ""
        /// Scratch space for downloads and installs; removed by `shutdown()`.
        public var stateDirectory: String
        public var memoryMB = 2048
        public var timeoutSeconds: Double = 900
        /// The unprivileged uid pip and the probes run as.
        public var uid: UInt32 = 160_002

        public init(stateDirectory: String? = nil) {
            self.stateDirectory = stateDirectory
                ?? FileManager.default.temporaryDirectory.appendingPathComponent("pipbench-sandbox-\(getpid())-\(UUID().uuidString.prefix(8))").path
        }
    }

    /// How a sandboxed step ended, with the seconds the command itself took (sandbox setup excluded).
    public struct Step: Sendable {
        public var seconds: Double?
        public var output: String
        /// Why the step failed; nil when it succeeded.
        public var failure: String?

        public var succeeded: Bool { failure == nil }
    }

    /// A scratch folder the sandbox user may write, mounted at `/work` with its `tmp` as TMPDIR and HOME.
    public struct Workspace: Sendable {
        public static let inSandbox = "/work"
        public let host: URL

        public var bind: SandboxConfiguration.Bind { .init(source: host.path, target: Self.inSandbox, writable: true) }
        public var environment: [String: String] { ["TMPDIR": "\(Self.inSandbox)/tmp", "HOME": "\(Self.inSandbox)/tmp"] }
    }

    public let settings: Settings
    private let launcher: SandboxLauncher
    private let hierarchy: CgroupHierarchy
    private let firewall: SandboxFirewall
    private let logger = Logger(label: "pipbench.sandbox")
    private let interrupted = Atomic(false)

    public init(settings: Settings = Settings()) throws {
        guard geteuid() == 0 else {
            throw PipBenchError.usage("installing and importing packages runs their code, so pipbench does it only in Pipsqueak sandboxes, which need root (namespaces and cgroups); run as root")
        }
        let helper = settings.helperPath.isEmpty ? SandboxLauncher.helperNextToExecutable() : settings.helperPath
        guard FileManager.default.isExecutableFile(atPath: helper) else {
            throw PipBenchError.usage("sandbox helper not found at \(helper); build the pipsqueak-sandbox product (swift build)")
        }
        self.settings = settings
        try FileManager.default.createDirectory(atPath: settings.stateDirectory, withIntermediateDirectories: true)
        hierarchy = CgroupHierarchy(version: CgroupHierarchy.detectVersion(),
                                    parent: "pipbench/\(Array(settings.stateDirectory.utf8).sha256Hex.prefix(12))")
        do { try hierarchy.prepare() } catch { throw PipBenchError.io("cannot prepare cgroups: \(error)") }
        // Downloads get an outbound network that cannot reach the host's own services, as the worker's do.
        firewall = SandboxFirewall(table: "pipbench_\(Array(settings.stateDirectory.utf8).sha256Hex.prefix(12))", uid: settings.uid + 1)
        launcher = SandboxLauncher(
            configuration: .init(helperPath: helper, python: settings.python, runtimeScript: "", stateDirectory: settings.stateDirectory,
                                 rootfs: "", hierarchy: hierarchy, tmpMB: 256, pidsMax: 1024,
                                 cpuCores: Double(ProcessInfo.processInfo.activeProcessorCount), uidBase: Int(settings.uid),
                                 outbound: OutboundNetworkSupport.prepare(firewall: firewall)),
            group: MultiThreadedEventLoopGroup.singleton)
    }

    /// A fresh workspace; the caller removes `host` when done.
    public func makeWorkspace(_ label: String) throws -> Workspace {
        let url = URL(fileURLWithPath: settings.stateDirectory)
            .appendingPathComponent("work/\(SandboxLauncher.label(label))-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url.appendingPathComponent("tmp"), withIntermediateDirectories: true)
        for path in [url.path, url.appendingPathComponent("tmp").path] { chown(path, settings.uid, settings.uid) }
        return Workspace(host: url)
    }

    /// Runs `arguments` (a program and its arguments) timed from inside the sandbox.
    /// `systemPackages` shows Debian's dist-packages (pip lives there); a handler never sees them.
    public func timed(_ label: String, _ arguments: [String], binds: [SandboxConfiguration.Bind], network: Bool,
                      environment: [String: String] = [:], systemPackages: Bool) async throws -> Step {
        let wrapper = """
            import subprocess, sys, time
            start = time.perf_counter()
            code = subprocess.call(sys.argv[1:])
            print("PIPBENCH-SECONDS %.6f" % (time.perf_counter() - start), flush=True)
            sys.exit(code)
            """
        var step = try await run(label, [settings.python, "-I", "-c", wrapper] + arguments, binds: binds, network: network,
                                 environment: environment, systemPackages: systemPackages)
        step.seconds = step.output.split(whereSeparator: \.isNewline).last { $0.hasPrefix("PIPBENCH-SECONDS ") }
            .flatMap { Double($0.dropFirst("PIPBENCH-SECONDS ".count)) }
        return step
    }

    /// Runs one command in a fresh sandbox.
    public func run(_ label: String, _ command: [String], binds: [SandboxConfiguration.Bind], network: Bool,
                    environment: [String: String] = [:], systemPackages: Bool) async throws -> Step {
        var env = ["PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_CACHE_DIR": "1", "PYTHONDONTWRITEBYTECODE": "1"]
        for key in ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"] where network {
            env[key] = ProcessInfo.processInfo.environment[key]
        }
        env.merge(environment) { _, new in new }
        guard !wasInterrupted else { throw PipBenchError.usage("interrupted") }
        let result: CommandResult
        do {
            result = try await launcher.run(CommandRequest(
                label: label, command: command, binds: binds, network: network ? .outbound : .none, memoryMB: settings.memoryMB,
                timeoutSeconds: settings.timeoutSeconds, environment: env, uid: settings.uid, showSystemPackages: systemPackages),
                logger: logger)
        } catch {
            throw PipBenchError.io("sandbox failed: \(error)")
        }
        let failure: String? = if result.timedOut { "timed out after \(Int(settings.timeoutSeconds)) s" }
            else if result.outOfMemory { "ran out of memory (\(settings.memoryMB) MB)" }
            else if result.exitCode != 0 { "exit \(result.exitCode.map(String.init) ?? "?"): \(result.tail(4))" }
            else { nil }
        return Step(seconds: nil, output: result.output, failure: failure)
    }

    /// Kills every running step (it then fails) and refuses new ones; for Ctrl-C. Safe from any thread.
    public func interrupt() {
        interrupted.store(true, ordering: .sequentiallyConsistent)
        hierarchy.removeAll()
    }

    public var wasInterrupted: Bool { interrupted.load(ordering: .sequentiallyConsistent) }

    /// Kills any sandbox still running and removes the study's cgroups and scratch space.
    public func shutdown() {
        hierarchy.removeAll()
        hierarchy.removeParent()
        firewall.remove()
        try? FileManager.default.removeItem(atPath: settings.stateDirectory)
    }
}
