import ArgumentParser
import Foundation
import Logging
import PipsqueakCore
import PipsqueakWorker

/// `pipsqueak worker`: runs a worker in the foreground.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run a Pipsqueak worker in the foreground.",
        discussion: """
            Settings come from the built-in defaults, then the --config YAML file, then flags; a flag wins.
            Every config key is also a flag: handler_cache_mb is --handler-cache-mb. Must run as root
            (it creates namespaces, mounts and cgroups). Stop it with SIGTERM or Ctrl-C.
            """)

    @Option(help: "YAML config file (keys as in docs/configuration.md).") var config: String?
    @Option(help: "Address to listen on (default 127.0.0.1).") var host: String?
    @Option(help: "HTTP port (default 5000; 0 picks a free port).") var port: Int?
    @Option(help: "State directory (default ./.pipsqueak).") var stateDir: String?
    @Option(help: "Handler cache budget in MiB; 0 disables the tier (default 512).") var handlerCacheMb: Int?
    @Option(help: "Import cache budget in MiB; 0 disables the tier (default 256).") var importCacheMb: Int?
    @Option(help: "Zygotes to keep from the start, as package sets: 'numpy;numpy,pandas' (default none).") var importCacheTree: String?
    @Option(help: "Packages a zygote may hold for handlers without them: 'six,numpy==2.4.6' (default none).") var vettedPackages: String?
    @Option(help: "Handler sandboxes kept prepared for forks from zygotes (default 64).") var preparedSandboxes: Int?
    @Option(help: "Memory limit of each zygote in MiB (default 1024).") var zygoteMemoryMb: Int?
    @Option(help: "Package index URL (default https://pypi.org/simple).") var indexUrl: String?
    @Option(help: "Local directory of wheels and sdists pip may install from.") var findLinks: String?
    @Option(name: .customLong("trusted-host"), help: "Index host pip may use over plain HTTP (repeatable).") var trustedHosts: [String] = []
    @Flag(name: .customLong("allow-host-network"), help: "Let handlers ask for the host's network namespace (network: host).")
    var allowHostNetwork = false
    @Option(help: "Install cache disk budget in MiB; 0 means unlimited (default 0).") var installCacheMb: Int?
    @Option(help: "Freeze an instance after this many idle milliseconds (default 1000).") var freezeAfterMs: Int?
    @Option(help: "Default memory limit per instance in MiB (default 256).") var defaultMemoryMb: Int?
    @Option(help: "Default invocation timeout in seconds (default 30).") var defaultTimeoutS: Double?
    @Option(help: "Default instance limit per handler (default 4).") var defaultMaxInstances: Int?
    @Option(help: "Queued requests per handler before 503 (default 64).") var maxQueue: Int?
    @Option(help: "Largest handler archive in MiB (default 64).") var maxUploadMb: Int?
    @Option(help: "Largest event in KiB (default 6144).") var maxEventKb: Int?
    @Option(help: "Python interpreter used in sandboxes (default /usr/bin/python3).") var python: String?
    @Option(help: "Root file system directory for sandboxes (default: the host's /usr, /lib*, /bin).") var rootfs: String?
    @Option(help: "Path of the pipsqueak-sandbox helper (default: next to this executable).") var sandboxHelper: String?
    @Option(help: "Size of each sandbox's /tmp in MiB (default 64).") var tmpMb: Int?
    @Option(help: "Process limit per instance (default 128).") var pidsMax: Int?
    @Option(help: "CPU limit per instance in cores (default 1.0).") var cpuCores: Double?
    @Option(help: "auto, v1 or v2 (default auto).") var cgroupVersion: String?
    @Option(help: "First uid of the sandbox uid range (default 100000).") var sandboxUidBase: Int?
    @Option(help: "trace, debug, info, notice, warning or error (default info).") var logLevel: String?

    /// The effective configuration: defaults, then file, then flags.
    func resolvedConfig() throws -> WorkerConfig {
        var resolved = try config.map { try WorkerConfig.load(file: $0) } ?? WorkerConfig()
        func apply<T>(_ value: T?, _ path: WritableKeyPath<WorkerConfig, T>) {
            if let value { resolved[keyPath: path] = value }
        }
        apply(host, \.host); apply(port, \.port); apply(stateDir, \.stateDir)
        apply(handlerCacheMb, \.handlerCacheMB); apply(importCacheMb, \.importCacheMB); apply(indexUrl, \.indexURL)
        apply(findLinks, \.findLinks); apply(installCacheMb, \.installCacheMB)
        apply(freezeAfterMs, \.freezeAfterMS); apply(defaultMemoryMb, \.defaultMemoryMB); apply(defaultTimeoutS, \.defaultTimeoutS)
        apply(defaultMaxInstances, \.defaultMaxInstances); apply(maxQueue, \.maxQueue); apply(maxUploadMb, \.maxUploadMB)
        apply(maxEventKb, \.maxEventKB); apply(python, \.python); apply(rootfs, \.rootfs); apply(sandboxHelper, \.sandboxHelper)
        apply(tmpMb, \.tmpMB); apply(pidsMax, \.pidsMax); apply(cpuCores, \.cpuCores); apply(cgroupVersion, \.cgroupVersion)
        apply(sandboxUidBase, \.sandboxUIDBase); apply(logLevel, \.logLevel)
        if !trustedHosts.isEmpty { resolved.trustedHosts = trustedHosts }
        if let importCacheTree {
            resolved.importCacheTree = importCacheTree.split(separator: ";").map { $0.split(separator: ",").map(String.init) }
        }
        if let vettedPackages { resolved.vettedPackages = vettedPackages.split(separator: ",").map(String.init) }
        apply(preparedSandboxes, \.preparedSandboxes); apply(zygoteMemoryMb, \.zygoteMemoryMB)
        if allowHostNetwork { resolved.allowHostNetwork = true }
        try resolved.validate()
        return resolved
    }

    func run() async throws {
        let settings = try resolvedConfig()
        guard geteuid() == 0 else {
            throw ValidationError("the worker must run as root: it creates namespaces, mounts and cgroups for its sandboxes")
        }
        let level = Logger.Level(rawValue: settings.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "pipsqueak.worker")
        let worker = try await Worker(config: settings, logger: logger)
        let host = settings.host
        try await worker.run { port in
            FileHandle.standardError.write(Data("listening on http://\(host):\(port)\n".utf8))
        }
    }
}
