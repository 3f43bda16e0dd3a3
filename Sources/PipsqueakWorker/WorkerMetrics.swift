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
