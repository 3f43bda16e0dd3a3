import Foundation
import Histogram

/// The results of `pipbench run`: percentiles per start tier and overall, CDFs and a time series.
public struct RunReport: Codable, Sendable {
    /// Latency summary of one tier, in milliseconds.
    public struct Summary: Codable, Sendable {
        public var count: Int
        public var meanMs: Double
        public var p50Ms: Double
        public var p90Ms: Double
        public var p99Ms: Double
        public var p999Ms: Double
        public var maxMs: Double
    }

    /// One point of a latency CDF.
    public struct CDFPoint: Codable, Sendable {
        public var ms: Double
        public var fraction: Double
    }

    /// One second of the run.
    public struct Second: Codable, Sendable {
        public var second: Int
        public var requests: Int
        public var errors: Int
        public var p50Ms: Double
        public var p99Ms: Double
    }

    public var workerURL: String
    public var mode: String
    public var rate: Double?
    public var concurrency: Int?
    public var handlers: Int
    public var startedAt: Date
    public var durationSeconds: Double
    public var interrupted: Bool
    public var requests: Int
    public var throughput: Double
    public var errors: [String: Int]
    public var overall: Summary
    public var tiers: [String: Summary]
    public var cdf: [String: [CDFPoint]]
    public var timeSeries: [Second]

    public init(recorder: LatencyRecorder, workload: Workload, workerURL: String, startedAt: Date, duration: Double, interrupted: Bool) {
        let state = recorder.snapshot()
        self.workerURL = workerURL
        mode = workload.mode.rawValue
        rate = workload.mode == .open ? workload.rate : nil
        concurrency = workload.mode == .closed ? workload.concurrency : nil
        handlers = workload.handlers
        self.startedAt = startedAt
        durationSeconds = duration
        self.interrupted = interrupted
        requests = Int(state.overall.totalCount)
        throughput = duration > 0 ? Double(requests) / duration : 0
        errors = state.errors
        overall = Self.summary(state.overall)
        tiers = state.tiers.mapValues(Self.summary)
        cdf = state.tiers.mapValues(Self.cdf)
        cdf["overall"] = Self.cdf(state.overall)
        timeSeries = Self.series(state.samples)
    }

    static func summary(_ h: Histogram<UInt64>) -> Summary {
        func ms(_ v: UInt64) -> Double { Double(v) / 1000 }
        let empty = h.totalCount == 0
        return Summary(count: Int(h.totalCount), meanMs: empty ? 0 : h.mean / 1000, p50Ms: ms(h.valueAtPercentile(50)),
                       p90Ms: ms(h.valueAtPercentile(90)), p99Ms: ms(h.valueAtPercentile(99)),
                       p999Ms: ms(h.valueAtPercentile(99.9)), maxMs: ms(empty ? 0 : h.max))
    }

    static func cdf(_ h: Histogram<UInt64>) -> [CDFPoint] {
        guard h.totalCount > 0 else { return [] }
        return h.percentiles(ticksPerHalfDistance: 5).map { CDFPoint(ms: Double($0.value) / 1000, fraction: $0.percentile / 100) }
    }

    static func series(_ samples: [LatencyRecorder.Sample]) -> [Second] {
        let bySecond = Dictionary(grouping: samples) { Int($0.offset) }
        return bySecond.keys.sorted().map { second in
            let bucket = bySecond[second]!
            let latencies = bucket.filter { $0.tier != "error" }.map { Double($0.microseconds) / 1000 }.sorted()
            return Second(second: second, requests: bucket.count, errors: bucket.filter { $0.tier == "error" }.count,
                          p50Ms: Stats.quantile(latencies, 0.5), p99Ms: Stats.quantile(latencies, 0.99))
        }
    }

    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(self)
    }

    /// A plain-text table of percentiles per tier.
    public func text() -> String {
        var lines = [String(format: "%d requests in %.1f s (%.1f/s), mode %@%@", requests, durationSeconds, throughput, mode,
                            interrupted ? ", interrupted" : "")]
        lines.append("tier".padded(10) + "count".padded(8, left: true) + "p50 ms".padded(11, left: true) + "p90 ms".padded(11, left: true)
                     + "p99 ms".padded(11, left: true) + "p99.9 ms".padded(11, left: true) + "max ms".padded(11, left: true))
        for (name, s) in tiers.sorted(by: { $0.key < $1.key }) + [("overall", overall)] {
            lines.append(name.padded(10) + String(s.count).padded(8, left: true)
                         + [s.p50Ms, s.p90Ms, s.p99Ms, s.p999Ms, s.maxMs].map { String(format: "%.2f", $0).padded(11, left: true) }.joined())
        }
        if !errors.isEmpty {
            lines.append("errors: " + errors.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", "))
        }
        return lines.joined(separator: "\n")
    }
}
