import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import PipsqueakCache
import PipsqueakCore
import PipsqueakRuntime
import PipsqueakSandbox
import ServiceLifecycle

/// A Pipsqueak worker: handler registry, handler cache and sandbox launcher behind an HTTP API.
public final class Worker: Sendable {
    public let config: WorkerConfig
    public let stateDirectory: URL
    public let registry: HandlerRegistry
    public let cache: HandlerCache<Sandbox>
    public let launcher: SandboxLauncher
    public let installCache: InstallCache
    /// Deploys in progress and what they are doing, for `GET /installs` and the CLI's progress.
    let installProgress = InstallProgress()
    public let metrics: WorkerMetrics
    public let hierarchy: CgroupHierarchy
    /// Keeps outbound sandboxes away from the host's own addresses.
    public let firewall: SandboxFirewall
    /// slirp4netns runs as `sandbox_uid_base` + this; handler uids stay below `sandbox_uid_base` + 60000.
    static let networkUIDOffset = 60_010
    let logger: Logger
    let startedAt = Date()

    /// Prepares the state directory and cgroups, and removes what a crashed worker left behind.
    public init(config: WorkerConfig, logger: Logger, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) throws {
        try config.validate()
        self.config = config
        self.logger = logger
        let manager = FileManager.default
        let state = URL(fileURLWithPath: config.stateDir, relativeTo: URL(fileURLWithPath: manager.currentDirectoryPath))
            .standardizedFileURL
        stateDirectory = state
        try manager.createDirectory(at: state, withIntermediateDirectories: true)
        chmod(state.path, 0o700)

        let runtimeScript = state.appendingPathComponent("runtime/runtime.py")
        try AtomicFile.write(try PythonRuntime.source(), to: runtimeScript)
        chmod(runtimeScript.path, 0o644)
        chmod(runtimeScript.deletingLastPathComponent().path, 0o755)

        let version: CgroupVersion = switch config.cgroupVersion {
        case "v1": .v1
        case "v2": .v2
        default: CgroupHierarchy.detectVersion()
        }
        hierarchy = CgroupHierarchy(version: version, parent: "pipsqueak/\(Array(state.path.utf8).sha256Hex.prefix(12))")
        try hierarchy.prepare()
        let stale = hierarchy.removeAll()
        let sandboxes = state.appendingPathComponent("sandboxes")
        try? manager.removeItem(at: sandboxes)
        try manager.createDirectory(at: sandboxes, withIntermediateDirectories: true)
        if stale > 0 { logger.notice("removed sandboxes left by a previous worker", metadata: ["count": "\(stale)"]) }

        firewall = SandboxFirewall(table: "pipsqueak_\(Array(state.path.utf8).sha256Hex.prefix(12))",
                                   uid: UInt32(config.sandboxUIDBase + Self.networkUIDOffset))
        let outbound = OutboundNetworkSupport.prepare(firewall: firewall)
        if case .unavailable(let reason) = outbound {
            logger.notice("sandboxes cannot have an outbound network", metadata: ["reason": "\(reason)"])
        }

        registry = try HandlerRegistry(stateDirectory: state, logger: logger)
        cache = HandlerCache(settings: .init(budgetBytes: Int64(config.handlerCacheMB) << 20,
                                              freezeAfter: .milliseconds(config.freezeAfterMS), maxQueue: config.maxQueue))
        launcher = SandboxLauncher(
            configuration: .init(helperPath: config.sandboxHelper.isEmpty ? SandboxLauncher.helperNextToExecutable() : config.sandboxHelper,
                                 python: config.python, runtimeScript: runtimeScript.path, stateDirectory: state.path,
                                 rootfs: config.rootfs, hierarchy: hierarchy, tmpMB: config.tmpMB, pidsMax: config.pidsMax,
                                 cpuCores: config.cpuCores, uidBase: config.sandboxUIDBase, outbound: outbound),
            group: group)
        installCache = try InstallCache(
            root: state.appendingPathComponent("packages"),
            settings: .init(python: config.python, indexURL: config.indexURL, findLinks: config.findLinks, trustedHosts: config.trustedHosts,
                            budgetBytes: Int64(config.installCacheMB) << 20, installerUID: UInt32(config.sandboxUIDBase + 60_001)),
            launcher: launcher, logger: logger)
        metrics = WorkerMetrics()
        logger.info("worker ready", metadata: ["state": "\(state.path)", "cgroups": "\(version.rawValue)",
                                              "handlers": "\(registry.all().count)"])
    }

    /// Runs the HTTP server and cache upkeep until SIGTERM or SIGINT, then stops every sandbox.
    public func run(onListening: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        let app = Application(
            router: router(),
            configuration: .init(address: .hostname(config.host, port: config.port), serverName: "pipsqueak"),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? 0) },
            logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [CacheUpkeepService(worker: self), app],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }

    /// Stops every instance and removes the worker's cgroups.
    public func shutdown() async {
        await cache.shutdown()
        hierarchy.removeAll()
        hierarchy.removeParent()
        firewall.remove()
        logger.info("worker stopped; all sandboxes removed")
    }

    func status() async -> WorkerStatus {
        let stats = await cache.snapshot()
        let packages = await installCache.snapshot()
        return WorkerStatus(
            handlers: registry.all().count,
            tiers: [
                "handler_cache": .init(enabled: config.handlerCacheMB > 0, hits: stats.hits, misses: stats.misses,
                                       evictions: stats.evictions, budgetMB: config.handlerCacheMB),
                "import_cache": .init(enabled: false, hits: 0, misses: 0, evictions: 0, budgetMB: config.importCacheMB),
                "install_cache": .init(enabled: true, hits: packages.hits, misses: packages.misses, evictions: packages.evictions,
                                       budgetMB: config.installCacheMB),
            ],
            instances: .init(live: stats.busy + stats.idle, busy: stats.busy, idle: stats.idle, paused: stats.paused,
                             starting: stats.starting, queued: stats.queued),
            memoryBytes: stats.memoryBytes, rejected: stats.rejected, cgroupVersion: hierarchy.version.rawValue,
            uptimeSeconds: Date().timeIntervalSince(startedAt))
    }
}

extension Worker {
    /// Distributions mounted by live or paused instances; these are never removed.
    func packagesInUse() async -> Set<PackageRef> {
        let handlers = await cache.instanceCounts().keys
        return Set(handlers.compactMap { registry.record(named: $0) }.flatMap(\.packages))
    }
}

/// Periodic cache upkeep (freezing, memory sampling, eviction); on shutdown it stops every sandbox.
struct CacheUpkeepService: Service {
    let worker: Worker

    func run() async throws {
        var ticks = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(200))
            await worker.cache.maintain()
            ticks += 1
            if ticks % 25 == 0 { _ = await worker.installCache.enforceBudget(inUse: await worker.packagesInUse()) }
            let stats = await worker.cache.snapshot()
            worker.metrics.instances.record(stats.busy + stats.idle + stats.paused)
            worker.metrics.pausedInstances.record(stats.paused)
            worker.metrics.memoryBytes.record(stats.memoryBytes)
        }
        await worker.shutdown()
    }
}
