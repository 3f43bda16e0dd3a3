import Foundation
import Hummingbird
import PipsqueakCore
import Synchronization
import Testing
@testable import PipBench

/// The built `pipbench` next to the test binary.
private let pipbenchBinary = TestSupport.builtExecutable("pipbench")

/// Ctrl-C during `pipbench run`: the real executable, a fake worker, a real SIGINT.
@Suite(.serialized, .enabled(if: pipbenchBinary != nil, "needs the built pipbench executable"))
struct InterruptTests {
    @Test func ctrlCDuringTheRunWritesAndPrintsThePartialReport() async throws {
        let served = Atomic<Int>(0)
        let router = Router()
        router.post("/run/:name") { _, _ in
            served.add(1, ordering: .relaxed)
            try await Task.sleep(for: .milliseconds(2))
            var headers = HTTPFields()
            headers.append(.init(name: .init("X-Pipsqueak-Start")!, value: "warm"))
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: "{}")))
        }
        try await ServerHarness.withRouter(router) { port in
            let url = "http://127.0.0.1:\(port)"
            let work = try TestSupport.temporaryDirectory("interrupt-run")
            defer { try? FileManager.default.removeItem(at: work) }
            let packages = try TestSupport.generate(TestSupport.smallSpec(packages: 6), label: "interrupt-packages")
            defer { try? FileManager.default.removeItem(at: packages) }
            let out = work.appendingPathComponent("report")
            let run = try Self.start(["run", "--worker", url, "--packages", packages.path, "--skip-deploy", "--handlers", "3",
                                      "--mode", "closed", "--concurrency", "2", "--duration", "300", "--requests", "100000000",
                                      "--out", out.path], logs: work)
            defer { if run.isRunning { run.terminate() } }
            try await Self.waitUntil("requests reached the fake worker") { served.load(ordering: .relaxed) >= 50 }
            kill(run.processIdentifier, SIGINT)
            try await Self.waitUntil("pipbench exited after SIGINT") { !run.isRunning }

            #expect(run.terminationReason == .exit && run.terminationStatus == 0)
            let stdout = try String(contentsOf: work.appendingPathComponent("stdout"), encoding: .utf8)
            let stderr = try String(contentsOf: work.appendingPathComponent("stderr"), encoding: .utf8)
            #expect(stderr.contains("interrupted: stopping and writing the partial report"))
            #expect(stdout.contains("interrupted"), "the printed report is not marked interrupted:\n\(stdout)")
            let json = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("report.json"))) as? [String: Any])
            #expect(json["interrupted"] as? Bool == true)
            let requests = try #require(json["requests"] as? Int)
            #expect(requests >= 40 && requests <= served.load(ordering: .relaxed), "recorded \(requests), served \(served.load(ordering: .relaxed))")
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("report.html").path))
        }
    }

    @Test func ctrlCDuringDeployExitsWith130AndWritesNoReport() async throws {
        let deploys = Atomic<Int>(0)
        let router = Router()
        router.put("/handlers/:name") { _, _ in
            deploys.add(1, ordering: .relaxed)
            try await Task.sleep(for: .seconds(2))  // an install that takes a while
            return Response(status: .created)
        }
        try await ServerHarness.withRouter(router) { port in
            let url = "http://127.0.0.1:\(port)"
            let work = try TestSupport.temporaryDirectory("interrupt-deploy")
            defer { try? FileManager.default.removeItem(at: work) }
            let packages = try TestSupport.generate(TestSupport.smallSpec(packages: 6), label: "interrupt-packages")
            defer { try? FileManager.default.removeItem(at: packages) }
            let out = work.appendingPathComponent("report")
            let run = try Self.start(["run", "--worker", url, "--packages", packages.path, "--handlers", "3",
                                      "--requests", "10", "--out", out.path], logs: work)
            defer { if run.isRunning { run.terminate() } }
            try await Self.waitUntil("a deploy reached the fake worker") { deploys.load(ordering: .relaxed) >= 1 }
            kill(run.processIdentifier, SIGINT)
            try await Self.waitUntil("pipbench exited after SIGINT") { !run.isRunning }
            #expect(run.terminationStatus == 130)
            #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("report.json").path))
        }
    }

    /// Ctrl-C during a sandboxed study step kills the step and leaves no sandbox, cgroup or scratch folder.
    @Test(.enabled(if: geteuid() == 0, "sandboxed studies need root"))
    func ctrlCDuringAStartupStudyStopsItsSandboxesAndCleansUp() async throws {
        var spec = TestSupport.smallSpec(packages: 1)
        spec.sdists = true
        spec.sdistOnlyFraction = 1
        spec.installCpuSeconds = .constant(60)  // a build that would take a minute
        let packages = try TestSupport.generate(spec, label: "interrupt-study")
        let work = try TestSupport.temporaryDirectory("interrupt-study-logs")
        defer { for url in [packages, work] { try? FileManager.default.removeItem(at: url) } }
        let name = try BenchManifest.load(from: packages).packages[0].name
        let scratch = work.appendingPathComponent("scratch")
        let study = try Self.start(["analyze", "--startup", name, "--index-url", "file://\(packages.path)/simple",
                                    "--sandbox-dir", scratch.path], logs: work)
        defer { if study.isRunning { study.terminate() } }
        let sandboxes = scratch.appendingPathComponent("sandboxes").path
        try await Self.waitUntil("a study sandbox started") {
            !((try? FileManager.default.contentsOfDirectory(atPath: sandboxes)) ?? []).isEmpty
        }
        try await Task.sleep(for: .milliseconds(300))
        kill(study.processIdentifier, SIGINT)
        try await Self.waitUntil("pipbench analyze exited after SIGINT", seconds: 20) { !study.isRunning }

        #expect(study.terminationStatus == 130)
        #expect(!FileManager.default.fileExists(atPath: scratch.path), "scratch space removed")
        let hash = String(Array(scratch.path.utf8).sha256Hex.prefix(12))
        for cgroup in ["/sys/fs/cgroup/pids/pipbench/\(hash)", "/sys/fs/cgroup/pipbench/\(hash)", "/sys/fs/cgroup/unified/pipbench/\(hash)"] {
            #expect(!FileManager.default.fileExists(atPath: cgroup), "\(cgroup) left behind")
        }
    }

    static func start(_ arguments: [String], logs: URL) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: pipbenchBinary!)
        process.arguments = arguments
        for name in ["stdout", "stderr"] { FileManager.default.createFile(atPath: logs.appendingPathComponent(name).path, contents: nil) }
        process.standardOutput = try FileHandle(forWritingTo: logs.appendingPathComponent("stdout"))
        process.standardError = try FileHandle(forWritingTo: logs.appendingPathComponent("stderr"))
        try process.run()
        return process
    }

    /// Polls without blocking Swift's cooperative threads (the in-process fake worker needs them).
    static func waitUntil(_ what: String, seconds: Double = 30, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw PipBenchError.io("timed out waiting: \(what)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
