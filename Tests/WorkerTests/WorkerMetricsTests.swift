import Testing
@testable import PipsqueakWorker

@Suite struct WorkerMetricsTests {
    @Test func invocationsAreCountedPerStartTierAndOutcome() {
        let metrics = WorkerMetrics()
        for _ in 0..<3 { metrics.invocation(start: "warm", outcome: "ok", nanoseconds: 1_000_000) }
        metrics.invocation(start: "fresh", outcome: "error", nanoseconds: 50_000_000)
        let lines = String(decoding: metrics.exposition(), as: UTF8.self).split(separator: "\n")
        let counts = lines.filter { $0.hasPrefix("pipsqueak_invocations_total{") }
        #expect(counts.count == 2)
        #expect(counts.contains { $0.contains(#"start="warm""#) && $0.contains(#"outcome="ok""#) && $0.hasSuffix(" 3") })
        #expect(counts.contains { $0.contains(#"start="fresh""#) && $0.contains(#"outcome="error""#) && $0.hasSuffix(" 1") })
        #expect(lines.contains { $0.hasPrefix("pipsqueak_invocation_duration_seconds_count") && $0.hasSuffix(" 4") })
    }
}
