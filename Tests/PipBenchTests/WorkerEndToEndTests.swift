import Foundation
import Testing
@testable import PipBench

/// The real `pipsqueak` worker next to the test binary (or at $PIPBENCH_PIPSQUEAK), if built.
private let pipsqueakBinary = ProcessInfo.processInfo.environment["PIPBENCH_PIPSQUEAK"] ?? TestSupport.builtExecutable("pipsqueak")

private let canRunWorker = geteuid() == 0 && pipsqueakBinary != nil

/// A small run of generated packages against a real worker (needs root and the built `pipsqueak`).
@Suite(.serialized, .enabled(if: canRunWorker, "needs root and a built pipsqueak worker"))
struct WorkerEndToEndTests {
    @Test func smallRunAgainstARealWorker() async throws {
        var spec = TestSupport.smallSpec(packages: 12)
        spec.dependencies = .constant(1)
        let root = try TestSupport.generate(spec, label: "e2e")
        let state = try TestSupport.temporaryDirectory("e2e-state")
        let log = state.appendingPathExtension("log")
        defer { for u in [root, state, log] { try? FileManager.default.removeItem(at: u) } }
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let worker = Process()
        worker.executableURL = URL(fileURLWithPath: pipsqueakBinary!)
        worker.arguments = ["worker", "--port", "0", "--state-dir", state.path, "--index-url", "file://\(root.path)/simple"]
        let handle = try FileHandle(forWritingTo: log)
        worker.standardOutput = handle
        worker.standardError = handle
        try worker.run()
        defer { worker.terminate(); worker.waitUntilExit() }
        var url: String?
        for _ in 0..<300 where url == nil {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            url = text.split(separator: "\n").first { $0.hasPrefix("listening on ") }.map { String($0.dropFirst("listening on ".count)) }
            if url == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        let workerURL = try #require(url, "worker did not start")

        var workload = Workload()
        workload.handlers = 2
        workload.importsPerHandler = .constant(2)
        workload.mode = .closed
        workload.concurrency = 1
        workload.requests = 12
        let recorder = LatencyRecorder()
        let driver = LoadDriver(workerURL: workerURL, workload: workload,
                                handlers: HandlerFactory(workload: workload, packages: try BenchManifest.load(from: root).packages).handlers(),
                                recorder: recorder)
        try await driver.deploy()
        _ = await driver.drive()
        let report = RunReport(recorder: recorder, workload: workload, workerURL: workerURL, startedAt: Date(), duration: 1, interrupted: false)
        #expect(report.requests == 12)
        #expect(report.errors.isEmpty, "\(report.errors)")
        #expect(Set(report.tiers.keys).isSubset(of: ["warm", "import", "fresh", "install"]))
        #expect(report.tiers["warm", default: .init(count: 0, meanMs: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, p999Ms: 0, maxMs: 0)].count > 0)
    }
}
