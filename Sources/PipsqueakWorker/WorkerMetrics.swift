import CoreMetrics
import Prometheus
import Synchronization

/// The worker's Prometheus metrics, on a registry of its own (no global bootstrap).
public final class WorkerMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    private let duration: CoreMetrics.Timer
    let deploys: CoreMetrics.Counter
    let instances: CoreMetrics.Gauge
    let pausedInstances: CoreMetrics.Gauge
    let memoryBytes: CoreMetrics.Gauge
    let zygotes: CoreMetrics.Gauge
    let zygoteMemoryBytes: CoreMetrics.Gauge
    let importHits: CoreMetrics.Counter
    let importMisses: CoreMetrics.Counter
    let importForks: CoreMetrics.Counter
    let importEvictions: CoreMetrics.Counter
    /// The import cache's counters as last exported, so each upkeep adds only what changed.
    private let exported = Mutex<(hits: Int, misses: Int, forks: Int, evictions: Int)>((0, 0, 0, 0))
    /// One counter per (start tier, outcome), made on first use: no registry lookup per request.
    private let invocations = Mutex<[String: CoreMetrics.Counter]>([:])

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [.milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
                                                   .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
                                                   .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(10), .seconds(30)]
        self.factory = factory
        duration = CoreMetrics.Timer(label: "pipsqueak_invocation_duration_seconds", factory: factory)
        deploys = CoreMetrics.Counter(label: "pipsqueak_deploys_total", factory: factory)
        instances = CoreMetrics.Gauge(label: "pipsqueak_instances", factory: factory)
        pausedInstances = CoreMetrics.Gauge(label: "pipsqueak_paused_instances", factory: factory)
        memoryBytes = CoreMetrics.Gauge(label: "pipsqueak_instance_memory_bytes", factory: factory)
        zygotes = CoreMetrics.Gauge(label: "pipsqueak_zygotes", factory: factory)
        zygoteMemoryBytes = CoreMetrics.Gauge(label: "pipsqueak_zygote_memory_bytes", factory: factory)
        importHits = CoreMetrics.Counter(label: "pipsqueak_import_cache_hits_total", factory: factory)
        importMisses = CoreMetrics.Counter(label: "pipsqueak_import_cache_misses_total", factory: factory)
        importForks = CoreMetrics.Counter(label: "pipsqueak_import_cache_forks_total", factory: factory)
        importEvictions = CoreMetrics.Counter(label: "pipsqueak_import_cache_evictions_total", factory: factory)
    }

    /// Exports the import cache's cumulative counts as counter increments.
    func recordImportCache(hits: Int, misses: Int, forks: Int, evictions: Int) {
        let previous = exported.withLock { last in
            defer { last = (hits, misses, forks, evictions) }
            return last
        }
        if hits > previous.hits { importHits.increment(by: hits - previous.hits) }
        if misses > previous.misses { importMisses.increment(by: misses - previous.misses) }
        if forks > previous.forks { importForks.increment(by: forks - previous.forks) }
        if evictions > previous.evictions { importEvictions.increment(by: evictions - previous.evictions) }
    }

    /// Counts one invocation by start tier and outcome, and records its duration.
    func invocation(start: String, outcome: String, nanoseconds: Int64) {
        let counter = invocations.withLock { counters in
            let key = start + "\u{0}" + outcome
            if let existing = counters[key] { return existing }
            let made = CoreMetrics.Counter(label: "pipsqueak_invocations_total", dimensions: [("start", start), ("outcome", outcome)],
                                           factory: factory)
            counters[key] = made
            return made
        }
        counter.increment()
        duration.recordNanoseconds(nanoseconds)
    }

    public func exposition() -> [UInt8] { registry.emitToBuffer() }
}
