import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import PipsqueakCache
import PipsqueakCore
import PipsqueakPackages
import PipsqueakRuntime
import PipsqueakSandbox
import ServiceLifecycle

/// A Pipsqueak worker: the handler registry, the three cache tiers and the sandbox launcher behind an HTTP API.
///
/// This file only builds the parts; `Invocation.swift` is the one path from a request to a runtime,
/// `Deploy.swift` the one path from an upload to a stored handler, and `HTTP/` maps both to HTTP.
public final class Worker: Sendable {
    public let config: WorkerConfig
    public let stateDirectory: URL
    public let registry: HandlerRegistry
    /// Tier 1: live and paused instances.
    public let cache: HandlerCache<Sandbox>
    /// Tier 2: the zygote tree; nil when `import_cache_mb` is 0.
    let importCache: ImportCache<SandboxZygotes>?
    /// Handler sandboxes prepared inside zygotes, ahead of cold starts.
    let preparedPool: PreparedPool
    let zygoteEvents = ZygoteEvents()
    /// Tier 3: installed distributions.
    public let installCache: InstallCache
    public let installer: SandboxedInstaller
    public let launcher: SandboxLauncher
    /// Deploys in progress and what they are doing, for `GET /installs` and the CLI's progress.
    let installProgress = InstallProgress()
    public let metrics: WorkerMetrics
    public let hierarchy: CgroupHierarchy
    /// Keeps outbound sandboxes away from the host's own addresses.
    public let firewall: SandboxFirewall
    let logger: Logger
    let startedAt = Date()
    /// `/run/pipsqueak/<state id>/sandboxes`: the sandboxes' root mount points.
    let sandboxesDirectory: String

    /// slirp4netns runs as `sandbox_uid_base` + this; handler uids stay below `sandbox_uid_base` + 60000.
    static let networkUIDOffset = 60_010
    static let installerUIDOffset = 60_001

    /// Prepares the state directory and cgroups, and removes what a crashed worker left behind.
    public init(config: WorkerConfig, logger: Logger, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws {
        try config.validate()
        self.config = config
        self.logger = logger
        let manager = FileManager.default
        let state = URL(fileURLWithPath: config.stateDir, relativeTo: URL(fileURLWithPath: manager.currentDirectoryPath))
            .standardizedFileURL
        stateDirectory = state
        try manager.createDirectory(at: state, withIntermediateDirectories: true)
        chmod(state.path, 0o700)

        let runtimeDirectory = state.appendingPathComponent("runtime")
        try PythonRuntime.install(into: runtimeDirectory)

        let version: CgroupVersion = switch config.cgroupVersion {
        case "v1": .v1
        case "v2": .v2
        default: CgroupHierarchy.detectVersion()
        }
        let stateID = String(Array(state.path.utf8).sha256Hex.prefix(12))
        hierarchy = CgroupHierarchy(version: version, parent: "pipsqueak/\(stateID)")
        try hierarchy.prepare()
        let stale = hierarchy.removeAll()
        // Sandbox root mount points live outside the private state directory, on a path others may traverse
        // (but not list): zygotes' pid 1s, root of user namespaces that map no host user, resolve it.
        let sandboxes = URL(fileURLWithPath: "/run/pipsqueak/\(stateID)/sandboxes")
        try? manager.removeItem(at: sandboxes)
        try? manager.removeItem(at: state.appendingPathComponent("sandboxes"))
        try manager.createDirectory(at: sandboxes, withIntermediateDirectories: true)
        for path in ["/run/pipsqueak", "/run/pipsqueak/\(stateID)", sandboxes.path] { chmod(path, 0o711) }
        sandboxesDirectory = sandboxes.path
        if stale > 0 { logger.notice("removed sandboxes left by a previous worker", metadata: ["count": "\(stale)"]) }

        firewall = SandboxFirewall(table: "pipsqueak_\(stateID)", uid: UInt32(config.sandboxUIDBase + Self.networkUIDOffset))
        let outbound = OutboundNetworkSupport.prepare(firewall: firewall)
        if case .unavailable(let reason) = outbound {
            logger.notice("sandboxes cannot have an outbound network", metadata: ["reason": "\(reason)"])
        }

        registry = try HandlerRegistry(stateDirectory: state, logger: logger)
        cache = HandlerCache(settings: .init(budgetBytes: Int64(config.handlerCacheMB) << 20,
                                              freezeAfter: .milliseconds(config.freezeAfterMS), maxQueue: config.maxQueue))
        launcher = SandboxLauncher(
            configuration: .init(helperPath: config.sandboxHelper.isEmpty ? SandboxLauncher.helperNextToExecutable() : config.sandboxHelper,
                                 python: config.python, runtimeScript: runtimeDirectory.appendingPathComponent(PythonRuntime.runtimeFile).path,
                                 stateDirectory: state.path, rootfs: config.rootfs, hierarchy: hierarchy, tmpMB: config.tmpMB,
                                 pidsMax: config.pidsMax, cpuCores: config.cpuCores, uidBase: config.sandboxUIDBase, outbound: outbound,
                                 sandboxesDirectory: sandboxes.path),
            group: group)
        installer = SandboxedInstaller(
            root: state.appendingPathComponent("packages"),
            settings: .init(python: config.python, indexURL: config.indexURL, findLinks: config.findLinks, trustedHosts: config.trustedHosts,
                            installerUID: UInt32(config.sandboxUIDBase + Self.installerUIDOffset)),
            launcher: launcher, logger: logger)
        installCache = try await InstallCache(installer: installer, budgetBytes: Int64(config.installCacheMB) << 20, logger: logger)
        let pool = PreparedPool(capacity: config.preparedSandboxes)
        preparedPool = pool
        if config.importCacheMB > 0 {
            let events = zygoteEvents
            let zygotes = SandboxZygotes(launcher: launcher, installer: installer, memoryMB: config.zygoteMemoryMB, logger: logger) { zygote in
                Task { await pool.drop { $0.zygote == ObjectIdentifier(zygote) } }
            }
            importCache = ImportCache(mechanism: zygotes,
                                      settings: .init(budgetBytes: Int64(config.importCacheMB) << 20,
                                                      vetted: VettedPackages(entries: config.vettedPackages)),
                                      logger: logger) { id in events.created(id) }
        } else {
            importCache = nil
        }
        metrics = WorkerMetrics()
        zygoteEvents.set { [weak self] id in
            guard let self else { return }
            Task { await self.zygoteCreated(id) }
        }
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
            services: [CacheUpkeepService(worker: self), ImportCacheService(worker: self), app],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }

    /// Stops every instance and removes the worker's cgroups and firewall rules.
    public func shutdown() async {
        await cache.shutdown()
        await preparedPool.shutdown()
        await importCache?.shutdown()
        hierarchy.removeAll()
        hierarchy.removeParent()
        firewall.remove()
        try? FileManager.default.removeItem(atPath: (sandboxesDirectory as NSString).deletingLastPathComponent)
        rmdir("/run/pipsqueak")
        logger.info("worker stopped; all sandboxes removed")
    }

    func status() async -> WorkerStatus {
        let stats = await cache.snapshot()
        let packages = await installCache.snapshot()
        let zygotes = await importCache?.snapshot() ?? ImportCache<SandboxZygotes>.Stats()
        return WorkerStatus(
            handlers: registry.all().count,
            tiers: [
                "handler_cache": .init(enabled: config.handlerCacheMB > 0, hits: stats.hits, misses: stats.misses,
                                       evictions: stats.evictions, budgetMB: config.handlerCacheMB),
                "import_cache": .init(enabled: importCache != nil, hits: zygotes.hits, misses: zygotes.misses, evictions: zygotes.evictions,
                                      budgetMB: config.importCacheMB),
                "install_cache": .init(enabled: true, hits: packages.hits, misses: packages.misses, evictions: packages.evictions,
                                       budgetMB: config.installCacheMB),
            ],
            instances: .init(live: stats.busy + stats.idle, busy: stats.busy, idle: stats.idle, paused: stats.paused,
                             starting: stats.starting, queued: stats.queued),
            memoryBytes: stats.memoryBytes, rejected: stats.rejected, cgroupVersion: hierarchy.version.rawValue,
            uptimeSeconds: Date().timeIntervalSince(startedAt), zygotes: await zygoteStatus(), preparedSandboxes: await preparedPool.count)
    }

    /// Distributions mounted by live or paused instances; these are never removed.
    func packagesInUse() async -> Set<PackageRef> {
        Set(await cache.instances().flatMap(\.packages)).union(await importCache?.packagesInUse() ?? [])
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
