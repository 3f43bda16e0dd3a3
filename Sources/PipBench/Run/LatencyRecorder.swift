import Foundation
import Histogram
import Synchronization

/// Collects every request's latency, by `X-Pipsqueak-Start` tier, in HdrHistograms (microseconds),
/// plus a per-second time series.
public final class LatencyRecorder: Sendable {
    /// One completed (or failed) request.
    public struct Sample: Sendable {
        /// Seconds since the run started, when the request was due.
        public var offset: Double
        public var microseconds: UInt64
        /// `warm`, `import`, `fresh`, `install`, or `error`.
        public var tier: String
    }

    struct State {
        var tiers: [String: Histogram<UInt64>] = [:]
        var overall = Histogram<UInt64>(highestTrackableValue: 3_600_000_000)
        var samples: [Sample] = []
        var errors: [String: Int] = [:]
    }

    private let state = Mutex(State())
    /// Keeps at most this many samples for the time series (histograms keep everything).
    let sampleLimit = 2_000_000

    public init() {}

    public func record(_ sample: Sample, error: String? = nil) {
        state.withLock { s in
            let value = Swift.max(sample.microseconds, 1)
            if s.tiers[sample.tier] == nil { s.tiers[sample.tier] = Histogram<UInt64>(highestTrackableValue: 3_600_000_000) }
            _ = s.tiers[sample.tier]!.record(Swift.min(value, 3_600_000_000))
            _ = s.overall.record(Swift.min(value, 3_600_000_000))
            if s.samples.count < sampleLimit { s.samples.append(sample) }
            if let error { s.errors[error, default: 0] += 1 }
        }
    }

    public var count: Int { state.withLock { Int($0.overall.totalCount) } }

    func snapshot() -> State { state.withLock { $0 } }
}
