import ArgumentParser
import Foundation
import Histogram
import PipsqueakCore

/// `pipsqueak bench`: latency benchmarks against a running worker, with baselines measured in the same run.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmark a worker: warm invocations, and cold starts through each tier.", subcommands: [WarmBench.self, ColdBench.self])
}

struct WarmBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "warm",
        abstract: "Median and p99 of warm invocations of a no-op handler, beside the HTTP floor and fresh starts.",
        discussion: """
            Deploys a no-op handler, then measures on one keep-alive connection, in this order:
            the HTTP floor (GET /healthz, no sandbox involved), warm invocations, and fresh starts
            (the handler is redeployed before each, so no cached instance can serve it), alternating
            handlers without a network and with network: outbound (slirp4netns), to show what the network costs.
            """)

    @OptionGroup var worker: WorkerOption
    @Option(help: "Warm invocations to measure.") var requests = 2000
    @Option(help: "Fresh starts to measure.") var freshStarts = 20

    func run() async throws {
        let client = worker.client
        let name = "bench-noop"
        let code = "def f(event):\n    return None\n"
        try await deploy(client, name, code)
        _ = try await client.send(.POST, "/run/\(name)", body: Array("{}".utf8))
        let log = FileHandle.standardError

        log.write(Data("measuring the HTTP floor (\(requests) x GET /healthz)…\n".utf8))
        let floor = try await measure(requests) { _ = try await client.send(.GET, "/healthz") }

        log.write(Data("measuring warm invocations (\(requests))…\n".utf8))
        var serverSide = Histogram<UInt64>(highestTrackableValue: 600_000_000)
        var notWarm = 0
        let warm = try await measure(requests) {
            let reply = try await client.send(.POST, "/run/\(name)", body: Array("{}".utf8))
            guard reply.status == 200 else { throw CLIError(reply.errorMessage) }
            if reply.headers["X-Pipsqueak-Start"].first != "warm" { notWarm += 1 }
            if let value = reply.headers["X-Pipsqueak-Duration-Ms"].first.flatMap(Double.init) {
                _ = serverSide.record(UInt64(value * 1000))
            }
        }

        log.write(Data("measuring fresh starts (\(freshStarts), alternating network: none and network: outbound)…\n".utf8))
        var fresh = Histogram<UInt64>(highestTrackableValue: 600_000_000)
        var freshOutbound = Histogram<UInt64>(highestTrackableValue: 600_000_000)
        for index in 0..<(2 * freshStarts) {
            let outbound = index % 2 == 1
            try await deploy(client, name, code + "# generation \(index)\n", manifest: outbound ? "network: outbound\n" : nil)
            let started = ContinuousClock.now
            let reply = try await client.send(.POST, "/run/\(name)", body: Array("{}".utf8))
            guard reply.status == 200, reply.headers["X-Pipsqueak-Start"].first == "fresh" else { throw CLIError(reply.errorMessage) }
            if outbound { _ = freshOutbound.record(microseconds(since: started)) } else { _ = fresh.record(microseconds(since: started)) }
        }
        _ = try await client.send(.DELETE, "/handlers/\(name)")

        let floorMedian = Double(floor.valueAtPercentile(50))
        func row(_ label: String, _ histogram: Histogram<UInt64>) -> String {
            let median = Double(histogram.valueAtPercentile(50)), p99 = Double(histogram.valueAtPercentile(99))
            return label.padding(toLength: 40, withPad: " ", startingAt: 0)
                + String(format: "%10.3f %10.3f %10.1fx", median / 1000, p99 / 1000, median / floorMedian)
        }
        print("worker \(worker.url), one keep-alive connection, client-measured latency")
        print("".padding(toLength: 40, withPad: " ", startingAt: 0) + "median ms     p99 ms   vs floor")
        print(row("HTTP floor (GET /healthz)", floor))
        print(row("warm invocation (no-op handler)", warm))
        print(row("  server side (X-Pipsqueak-Duration)", serverSide))
        print(row("fresh start (new sandbox)", fresh))
        print(row("fresh start, network: outbound", freshOutbound))
        let overhead = (Double(warm.valueAtPercentile(50)) - floorMedian) / 1000
        print(String(format: "warm overhead over the HTTP floor: %.3f ms median", overhead))
        print(String(format: "fresh start / warm invocation: %.0fx", Double(fresh.valueAtPercentile(50)) / Double(warm.valueAtPercentile(50))))
        print(String(format: "outbound network adds %.1f ms to a fresh start (median)",
                     (Double(freshOutbound.valueAtPercentile(50)) - Double(fresh.valueAtPercentile(50))) / 1000))
        if notWarm > 0 { print("note: \(notWarm) of \(requests) invocations were not warm") }
    }

    private func deploy(_ client: WorkerClient, _ name: String, _ code: String, manifest: String? = nil) async throws {
        var files = [("f.py", Array(code.utf8))]
        if let manifest { files.append(("pipsqueak.yaml", Array(manifest.utf8))) }
        let archive = try HandlerArchive.gzipTar(files: files)
        let reply = try await client.send(.PUT, "/handlers/\(name)", body: archive, contentType: "application/gzip")
        guard reply.status == 201 else { throw CLIError(reply.errorMessage) }
    }

    private func measure(_ count: Int, _ body: () async throws -> Void) async throws -> Histogram<UInt64> {
        var histogram = Histogram<UInt64>(highestTrackableValue: 600_000_000)
        for _ in 0..<min(100, count) { try await body() }
        for _ in 0..<count {
            let started = ContinuousClock.now
            try await body()
            _ = histogram.record(microseconds(since: started))
        }
        return histogram
    }

    private func microseconds(since start: ContinuousClock.Instant) -> UInt64 {
        UInt64((ContinuousClock.now - start).nanoseconds / 1000)
    }
}
