import Foundation
import Logging
import NIOCore
import PipsqueakCore
import SandboxSetup
import Synchronization

/// Starts sandboxes: cgroup, helper process, runtime socket.
public final class SandboxLauncher: Sendable {
    public struct Configuration: Sendable {
        public var helperPath: String
        public var python: String
        /// Host path of `runtime.py`.
        public var runtimeScript: String
        public var stateDirectory: String
        /// Root file system directory; empty uses the host's /usr, /lib* and /bin.
        public var rootfs: String
        public var hierarchy: CgroupHierarchy
        public var tmpMB: Int
        public var pidsMax: Int
        public var cpuCores: Double
        public var uidBase: Int
        /// Whether sandboxes asking for an `outbound` network can get one.
        public var outbound: OutboundNetworkSupport
        /// Where sandboxes' (empty) root mount points are made. Every directory on the way must be traversable
        /// by others: a zygote's user namespace maps no host user, and its pid 1 reaches its root by this path.
        public var sandboxesDirectory: String

        public init(helperPath: String, python: String, runtimeScript: String, stateDirectory: String, rootfs: String,
                    hierarchy: CgroupHierarchy, tmpMB: Int, pidsMax: Int, cpuCores: Double, uidBase: Int,
                    outbound: OutboundNetworkSupport = .unavailable("outbound networking was not set up"), sandboxesDirectory: String? = nil) {
            self.sandboxesDirectory = sandboxesDirectory ?? "\(stateDirectory)/sandboxes"
            self.helperPath = helperPath
            self.python = python
            self.runtimeScript = runtimeScript
            self.stateDirectory = stateDirectory
            self.rootfs = rootfs
            self.hierarchy = hierarchy
            self.tmpMB = tmpMB
            self.pidsMax = pidsMax
            self.cpuCores = cpuCores
            self.uidBase = uidBase
            self.outbound = outbound
        }
    }

    public static let runtimeScriptInSandbox = "/pipsqueak/runtime.py"
    public static let codeInSandbox = "/handler"

    public let configuration: Configuration
    let group: any EventLoopGroup
    let base: (binds: [SandboxConfiguration.Bind], links: [SandboxConfiguration.Link], masks: [String])
    let counter = Counter()

    public init(configuration: Configuration, group: any EventLoopGroup) {
        self.configuration = configuration
        self.group = group
        self.base = BaseFilesystem.layout(rootfs: configuration.rootfs)
    }

    /// `pipsqueak-sandbox` in the running executable's directory: where `swift build` puts it.
    public static func helperNextToExecutable() -> String {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("pipsqueak-sandbox").path
    }

    /// `text` reduced to `[A-Za-z0-9_.-]` (at most 40 characters), safe in cgroup, log and folder names.
    public static func label(_ text: String) -> String {
        String(text.map { $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) ? $0 : "_" }.prefix(40))
    }

    /// The sandbox's unprivileged uid: stable per handler, distinct between handlers in practice.
    public func uid(for handler: String) -> UInt32 {
        var hash: UInt32 = 2_166_136_261
        for byte in handler.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return UInt32(configuration.uidBase) + hash % 60_000
    }

    /// The parts every sandbox shares: base file system, masks, /tmp, identity, network, cgroup, environment.
    func baseConfiguration(rootDirectory: String, cgroup: Cgroup, uid: UInt32, network: HandlerManifest.Network,
                           environment extra: [String: String], identity: String) -> SandboxConfiguration {
        var config = SandboxConfiguration()
        config.rootDirectory = rootDirectory
        config.binds = base.binds
        config.links = base.links
        config.masks = base.masks
        config.tmpSizeMB = configuration.tmpMB
        config.hostname = "pipsqueak"
        config.uid = uid
        config.gid = uid
        config.network = SandboxConfiguration.Network(rawValue: network.rawValue) ?? .none
        if case .available(let networkUID, let slirp) = configuration.outbound {
            config.networkUID = networkUID
            config.slirpPath = slirp
        }
        config.cgroupProcFiles = cgroup.procFiles
        var environment = ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "TMPDIR": "/tmp", "LANG": "C.UTF-8"]
        environment.merge(extra) { _, handler in handler }
        environment["PIPSQUEAK_HANDLER"] = identity
        config.environment = environment.keys.sorted().map { "\($0)=\(environment[$0]!)" }
        return config
    }

    /// Builds the helper configuration for a handler instance; the pure part of `launch`.
    public func sandboxConfiguration(for request: SandboxRequest, rootDirectory: String, cgroup: Cgroup) -> SandboxConfiguration {
        var config = baseConfiguration(rootDirectory: rootDirectory, cgroup: cgroup, uid: uid(for: request.handler),
                                       network: request.network, environment: request.environment, identity: request.handler)
        config.binds += [
            .init(source: request.codeDirectory, target: Self.codeInSandbox),
            .init(source: configuration.runtimeScript, target: Self.runtimeScriptInSandbox),
        ] + request.extraBinds.map { .init(source: $0.host, target: $0.sandbox) }
        config.workingDirectory = Self.codeInSandbox
        var command = [configuration.python, "-I", "-S", "-B", "-u", Self.runtimeScriptInSandbox,
                       "--entry", request.entry, "--name", request.handler,
                       "--memory-mb", String(request.memoryMB), "--code", Self.codeInSandbox]
        for path in request.pythonPaths { command += ["--path", path] }
        config.command = command
        return config
    }

    /// Refuses a sandbox whose network this worker cannot provide.
    func checkNetwork(_ network: HandlerManifest.Network) throws(PipsqueakError) {
        if network == .outbound, case .unavailable(let reason) = configuration.outbound {
            throw PipsqueakError(.sandboxFailed, "an outbound network is not available on this worker: \(reason)")
        }
    }

    /// Starts a sandbox and waits until the runtime has loaded the handler.
    public func launch(_ request: SandboxRequest, logger: Logger) async throws(PipsqueakError) -> Sandbox {
        try checkNetwork(request.network)
        let id = "\(request.handler)-\(counter.next())"
        let rootDirectory = "\(configuration.sandboxesDirectory)/\(id)"
        let cgroup = configuration.hierarchy.cgroup(named: id)
        let limits = CgroupLimits(memoryBytes: Int64(request.memoryMB) << 20, pidsMax: configuration.pidsMax,
                                  cpuCores: configuration.cpuCores)
        do {
            try FileManager.default.createDirectory(atPath: rootDirectory, withIntermediateDirectories: true)
        } catch {
            throw PipsqueakError(.sandboxFailed, "cannot create \(rootDirectory): \(error)")
        }
        var cleanup = SandboxCleanup(cgroup: cgroup, rootDirectory: rootDirectory)
        do {
            try cgroup.create(limits: limits)
            let helperConfig = sandboxConfiguration(for: request, rootDirectory: rootDirectory, cgroup: cgroup)
            let logPath = "\(configuration.stateDirectory)/logs/\(request.handler).log"
            let process = try HelperProcess.spawn(helper: configuration.helperPath, arguments: helperConfig.arguments, logPath: logPath)
            cleanup.helperPID = process.pid
            let channel: RuntimeChannel
            do {
                channel = try await RuntimeChannel.connect(descriptor: process.socket, group: group)
            } catch {
                close(process.socket)
                close(process.statusPipe)
                throw PipsqueakError(.sandboxFailed, "cannot attach to runtime socket: \(error)")
            }
            let sandbox = Sandbox(id: id, handler: request.handler, cgroup: cgroup, helperPID: process.pid,
                                  statusPipe: process.statusPipe, channel: channel, rootDirectory: rootDirectory,
                                  packages: request.packages)
            // From here the sandbox owns the helper, its fds, cgroup and root: a load error or start timeout
            // destroys it whole (the helper reaped, the socket and status pipe closed).
            cleanup.helperPID = nil
            do {
                try await sandbox.waitUntilReady(timeoutSeconds: request.startTimeoutSeconds)
            } catch {
                await sandbox.destroy()
                throw error
            }
            logger.debug("sandbox ready", metadata: ["sandbox": "\(id)", "pid": "\(process.pid)"])
            return sandbox
        } catch let error as PipsqueakError {
            await cleanup.run()
            throw error
        } catch {
            await cleanup.run()
            throw PipsqueakError(.sandboxFailed, "\(error)")
        }
    }
}

/// Monotonic sandbox numbers, unique within one worker process.
final class Counter: Sendable {
    private let value = Mutex<Int>(0)
    func next() -> Int { value.withLock { $0 += 1; return $0 } }
}

/// Undoes a half-built sandbox.
struct SandboxCleanup {
    var cgroup: Cgroup
    var rootDirectory: String
    var helperPID: pid_t?

    func run() async {
        try? cgroup.killAll()
        if let helperPID { _ = await HelperProcess.reap(helperPID) }
        try? cgroup.remove()
        rmdir(rootDirectory)
    }
}
