import Foundation
import Yams

/// Worker settings. Every key can be set in the YAML config file and overridden by a `worker` flag
/// of the same name (`handler_cache_mb` is `--handler-cache-mb`).
public struct WorkerConfig: Codable, Equatable, Sendable {
    public var host = "127.0.0.1"
    public var port = 5000
    public var stateDir = "./.pipsqueak"
    /// Budget of the handler cache (paused sandboxes), from cgroup memory usage; 0 disables the tier.
    public var handlerCacheMB = 512
    /// Budget of the import cache (zygote tree), from the zygotes' cgroup memory; 0 disables the tier.
    public var importCacheMB = 256
    /// Zygotes to create at start and never evict: package sets by name, such as `[["numpy"], ["numpy", "pandas"]]`.
    /// Each set's packages (and their dependencies) are resolved and installed as a handler's would be.
    public var importCacheTree: [[String]] = []
    /// Packages (`name` or `name==version`) a zygote may hold even for handlers that do not depend on them.
    public var vettedPackages: [String] = []
    /// Handler sandboxes kept prepared inside zygotes' user namespaces, so a cold start only forks and joins.
    public var preparedSandboxes = 64
    /// Memory limit of each zygote.
    public var zygoteMemoryMB = 1024
    /// Package index for installs.
    public var indexURL = "https://pypi.org/simple"
    /// A local directory of wheels and sdists pip may also install from.
    public var findLinks = ""
    /// Index hosts pip may use over plain HTTP or without a valid certificate (pip's `--trusted-host`).
    public var trustedHosts: [String] = []
    /// Whether handlers may ask for the host's own network namespace (`network: host`). Off by default:
    /// such a handler can reach every service on the host, the worker's API included.
    public var allowHostNetwork = false
    /// Disk budget of the install cache in MiB; least-recently-used packages not in use are removed beyond it. 0 means unlimited.
    public var installCacheMB = 0
    /// An idle instance is frozen after this many milliseconds.
    public var freezeAfterMS = 1000
    public var defaultMemoryMB = 256
    public var defaultTimeoutS = 30.0
    public var defaultMaxInstances = 4
    /// Requests that may wait for a busy handler before it answers 503.
    public var maxQueue = 64
    public var maxUploadMB = 64
    public var maxEventKB = 6 * 1024
    public var python = "/usr/bin/python3"
    /// A root file system directory for sandboxes; empty means the host's /usr, /lib* and /bin.
    public var rootfs = ""
    /// Path of the `pipsqueak-sandbox` helper; empty means next to the running executable.
    public var sandboxHelper = ""
    public var tmpMB = 64
    public var pidsMax = 128
    public var cpuCores = 1.0
    /// `auto`, `v1` or `v2`.
    public var cgroupVersion = "auto"
    public var sandboxUIDBase = 100_000
    public var logLevel = "info"

    public init() {}

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case host, port
        case stateDir = "state_dir"
        case handlerCacheMB = "handler_cache_mb"
        case importCacheMB = "import_cache_mb"
        case importCacheTree = "import_cache_tree"
        case vettedPackages = "vetted_packages"
        case preparedSandboxes = "prepared_sandboxes"
        case zygoteMemoryMB = "zygote_memory_mb"
        case indexURL = "index_url"
        case findLinks = "find_links"
        case trustedHosts = "trusted_hosts"
        case allowHostNetwork = "allow_host_network"
        case installCacheMB = "install_cache_mb"
        case freezeAfterMS = "freeze_after_ms"
        case defaultMemoryMB = "default_memory_mb"
        case defaultTimeoutS = "default_timeout_s"
        case defaultMaxInstances = "default_max_instances"
        case maxQueue = "max_queue"
        case maxUploadMB = "max_upload_mb"
        case maxEventKB = "max_event_kb"
        case python, rootfs
        case sandboxHelper = "sandbox_helper"
        case tmpMB = "tmp_mb"
        case pidsMax = "pids_max"
        case cpuCores = "cpu_cores"
        case cgroupVersion = "cgroup_version"
        case sandboxUIDBase = "sandbox_uid_base"
        case logLevel = "log_level"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        var config = WorkerConfig()
        func read<T: Decodable>(_ key: CodingKeys, _ path: WritableKeyPath<WorkerConfig, T>) throws {
            if let value = try container.decodeIfPresent(T.self, forKey: key) { config[keyPath: path] = value }
        }
        try read(.host, \.host); try read(.port, \.port); try read(.stateDir, \.stateDir)
        try read(.handlerCacheMB, \.handlerCacheMB); try read(.importCacheMB, \.importCacheMB)
        try read(.importCacheTree, \.importCacheTree); try read(.vettedPackages, \.vettedPackages)
        try read(.preparedSandboxes, \.preparedSandboxes); try read(.zygoteMemoryMB, \.zygoteMemoryMB)
        try read(.indexURL, \.indexURL); try read(.freezeAfterMS, \.freezeAfterMS)
        try read(.findLinks, \.findLinks); try read(.installCacheMB, \.installCacheMB)
        try read(.trustedHosts, \.trustedHosts); try read(.allowHostNetwork, \.allowHostNetwork)
        try read(.defaultMemoryMB, \.defaultMemoryMB); try read(.defaultTimeoutS, \.defaultTimeoutS)
        try read(.defaultMaxInstances, \.defaultMaxInstances); try read(.maxQueue, \.maxQueue)
        try read(.maxUploadMB, \.maxUploadMB); try read(.maxEventKB, \.maxEventKB)
        try read(.python, \.python); try read(.rootfs, \.rootfs); try read(.sandboxHelper, \.sandboxHelper)
        try read(.tmpMB, \.tmpMB); try read(.pidsMax, \.pidsMax); try read(.cpuCores, \.cpuCores)
        try read(.cgroupVersion, \.cgroupVersion); try read(.sandboxUIDBase, \.sandboxUIDBase)
        try read(.logLevel, \.logLevel)
        self = config
    }

    /// Parses a YAML config (a flat mapping); unknown keys and bad values are errors that name the key.
    public static func parse(yaml text: String) throws(PipsqueakError) -> WorkerConfig {
        let loaded: Any?
        do {
            loaded = try Yams.load(yaml: text)
        } catch {
            throw PipsqueakError(.invalidRequest, "config is not valid YAML: \(error)")
        }
        guard let loaded else { return WorkerConfig() }
        guard let map = loaded as? [String: Any] else {
            throw PipsqueakError(.invalidRequest, "config must be a mapping of keys to values")
        }
        let known = Set(CodingKeys.allCases.map(\.rawValue))
        let unknown = map.keys.filter { !known.contains($0) }.sorted()
        if !unknown.isEmpty {
            throw PipsqueakError(.invalidRequest, "unknown config key(s): \(unknown.joined(separator: ", "))")
        }
        let config: WorkerConfig
        do {
            config = try YAMLDecoder().decode(WorkerConfig.self, from: text)
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.dataCorrupted(context) {
            let key = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw PipsqueakError(.invalidRequest, "bad config value for \(key): \(context.debugDescription)")
        } catch {
            throw PipsqueakError(.invalidRequest, "bad config value: \(error)")
        }
        try config.validate()
        return config
    }

    public static func load(file: String) throws(PipsqueakError) -> WorkerConfig {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw PipsqueakError(.invalidRequest, "cannot read config file \(file)")
        }
        return try parse(yaml: text)
    }

    static func isValidPackageName(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 200 && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
    }

    /// A host name, IPv4 address or bracketed IPv6 address, optionally with `:port`.
    static func isValidHost(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 255 && !text.hasPrefix("-")
            && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || ".-:[]".contains($0)) }
    }

    public func validate() throws(PipsqueakError) {
        func require(_ condition: Bool, _ message: String) throws(PipsqueakError) {
            if !condition { throw PipsqueakError(.invalidRequest, "bad config: \(message)") }
        }
        try require((0...65535).contains(port), "port must be 0-65535 (0 picks a free port)")
        try require(handlerCacheMB >= 0, "handler_cache_mb must be >= 0")
        try require(importCacheMB >= 0, "import_cache_mb must be >= 0")
        try require(installCacheMB >= 0, "install_cache_mb must be >= 0")
        try require(importCacheTree.allSatisfy { !$0.isEmpty && $0.allSatisfy(Self.isValidPackageName) },
                    "import_cache_tree must be a list of non-empty lists of package names")
        try require(vettedPackages.allSatisfy { entry in
            let parts = entry.components(separatedBy: "==")
            return (parts.count == 1 || parts.count == 2) && Self.isValidPackageName(parts[0]) && parts.allSatisfy { !$0.isEmpty }
        }, "vetted_packages entries must be name or name==version")
        try require(preparedSandboxes >= 0, "prepared_sandboxes must be >= 0")
        try require(zygoteMemoryMB >= 64, "zygote_memory_mb must be >= 64")
        try require(sandboxUIDBase + 60_000 <= 1 << 20, "sandbox_uid_base must be at most \((1 << 20) - 60_000)")
        try require(findLinks.isEmpty || findLinks.hasPrefix("/"), "find_links must be an absolute directory path")
        try require(["http://", "https://", "file:///"].contains { indexURL.hasPrefix($0) }, "index_url must be an http(s) or file:/// URL")
        try require(trustedHosts.allSatisfy(Self.isValidHost), "trusted_hosts must be host names or host:port")
        try require(freezeAfterMS >= 0, "freeze_after_ms must be >= 0")
        try require(defaultMemoryMB >= 32, "default_memory_mb must be >= 32")
        try require(defaultTimeoutS > 0, "default_timeout_s must be > 0")
        try require(defaultMaxInstances >= 1, "default_max_instances must be >= 1")
        try require(maxQueue >= 0, "max_queue must be >= 0")
        try require(maxUploadMB >= 1, "max_upload_mb must be >= 1")
        try require(maxEventKB >= 1, "max_event_kb must be >= 1")
        try require(tmpMB >= 1, "tmp_mb must be >= 1")
        try require(pidsMax >= 8, "pids_max must be >= 8")
        try require(cpuCores > 0, "cpu_cores must be > 0")
        try require(["auto", "v1", "v2"].contains(cgroupVersion), "cgroup_version must be auto, v1 or v2")
        try require(sandboxUIDBase >= 1000, "sandbox_uid_base must be >= 1000")
        try require(["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(logLevel), "unknown log_level")
        try require(python.hasPrefix("/"), "python must be an absolute path")
    }
}
