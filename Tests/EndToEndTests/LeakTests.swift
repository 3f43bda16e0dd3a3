import Foundation
import Testing

/// The leak-free contract: after many failures of each kind, the worker holds exactly what it held before.
@Suite(.serialized, .enabled(if: isRoot, rootOnlyReason))
struct LeakTests {
    static let rounds = 200

    /// One way an invocation fails, and the status it must answer with.
    struct FailureKind: CustomStringConvertible, Sendable {
        var description: String
        var handler: String
        var event: String
        var status: Int
        var code: String
    }

    static let kinds: [FailureKind] = [
        .init(description: "load error", handler: "noimport", event: "{}", status: 502, code: "handler_error"),
        .init(description: "raise", handler: "raiser", event: "1", status: 502, code: "handler_error"),
        .init(description: "crash", handler: "crasher", event: "{}", status: 502, code: "handler_crashed"),
        .init(description: "timeout", handler: "sleeper", event: #"{"seconds": 30}"#, status: 504, code: "timeout"),
        .init(description: "out of memory", handler: "hog", event: "{}", status: 502, code: "out_of_memory"),
        .init(description: "oversized event", handler: "echo", event: "\"" + String(repeating: "x", count: 2048) + "\"",
              status: 413, code: "payload_too_large"),
        .init(description: "bad JSON", handler: "echo", event: "{nope", status: 400, code: "invalid_json"),
    ]

    @Test func failuresOfEveryKindLeaveNothingBehind() async throws {
        // No sandboxes prepared ahead: the pool would grow to its capacity during the test, by design.
        let worker = try WorkerProcess(arguments: ["--max-event-kb", "1", "--max-queue", "0", "--prepared-sandboxes", "0"])
        defer { worker.stop() }
        try await deployAll(worker)
        // One round of everything first, so lazily created thread pools and log files exist at the baseline.
        for kind in Self.kinds { try await expectFailure(kind, worker) }
        try await expectOverload(worker, rounds: 1)
        let baseline = try await settled(worker)

        for kind in Self.kinds {
            for _ in 0..<Self.rounds { try await expectFailure(kind, worker) }
            let after = try await settled(worker, like: baseline)
            #expect(after.sameHoldings(as: baseline), "after \(Self.rounds) × \(kind): \(after); baseline \(baseline)")
        }
        try await expectOverload(worker, rounds: Self.rounds)
        let after = try await settled(worker, like: baseline)
        #expect(after.sameHoldings(as: baseline), "after \(Self.rounds) × overload: \(after); baseline \(baseline)")
        #expect(try await worker.invoke("echo", "[1]").text == #"{"echo":[1]}"#, "the worker still serves")
    }

    private func deployAll(_ worker: WorkerProcess) async throws {
        let deploys: [(String, [String: String])] = [
            ("noimport", ["f.py": "import nosuchmodule\ndef f(e):\n    return e\n"]),
            ("raiser", ["f.py": Handlers.raiser]),
            ("crasher", ["f.py": Handlers.crasher]),
            ("sleeper", ["f.py": Handlers.sleeper, "pipsqueak.yaml": "timeout_s: 0.2\n"]),
            ("hog", ["f.py": Handlers.memoryBomb, "pipsqueak.yaml": "memory_mb: 48\n"]),
            ("echo", ["f.py": Handlers.echo]),
            ("holder", ["f.py": Handlers.sleeper, "pipsqueak.yaml": "max_instances: 1\ntimeout_s: 10\n"]),
        ]
        for (name, files) in deploys {
            let reply = try await worker.deploy(name, files)
            try #require(reply.status == 201, "\(name): \(reply.text)")
        }
    }

    private func expectFailure(_ kind: FailureKind, _ worker: WorkerProcess) async throws {
        let reply = try await worker.invoke(kind.handler, kind.event)
        #expect(reply.status == kind.status && reply.errorCode == kind.code, "\(kind): \(reply.status) \(reply.text)")
    }

    /// Holds the only instance of `holder` busy (until its 10 s timeout), and expects `rounds` requests meanwhile
    /// to be refused with 503.
    private func expectOverload(_ worker: WorkerProcess, rounds: Int) async throws {
        let holding = Task { try await worker.invoke("holder", #"{"seconds": 60}"#) }
        try await waitUntil { ((try await worker.status()["instances"] as? [String: Any])?["busy"] as? Int) == 1 }
        for _ in 0..<rounds {
            let reply = try await worker.invoke("holder", #"{"seconds": 0}"#)
            #expect(reply.status == 503 && reply.errorCode == "overloaded", "\(reply.status) \(reply.text)")
            #expect(reply.headers["Retry-After"].first != nil)
        }
        let held = try await holding.value
        #expect(held.status == 504, "the holder ends by its timeout: \(held.text)")
    }

    /// Waits until destroys in flight are done: the snapshot stops changing (or matches `like`).
    private func settled(_ worker: WorkerProcess, like target: ResourceSnapshot? = nil) async throws -> ResourceSnapshot {
        let deadline = ContinuousClock.now + .seconds(20)
        var previous = ResourceSnapshot.of(worker)
        while ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(250))
            let current = ResourceSnapshot.of(worker)
            if let target, current.sameHoldings(as: target) { return current }
            if target == nil, current == previous, current.childProcesses == 0, current.cgroups == 0 { return current }
            previous = current
        }
        return previous
    }
}
