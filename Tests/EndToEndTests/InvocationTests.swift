import Foundation
import PipsqueakCore
import Testing

/// The HTTP contract against a real worker: start tiers, errors, scale-out and redeploys.
@Suite(.serialized, .enabled(if: isRoot, rootOnlyReason))
struct InvocationTests {
    @Test func secondInvocationIsWarmAndPausedInstancesThaw() async throws {
        let worker = try WorkerProcess(arguments: ["--freeze-after-ms", "100", "--import-cache-mb", "0"])
        defer { worker.stop() }
        let deployed = try await worker.deploy("hello", ["f.py": Handlers.echo])
        #expect(deployed.status == 201)
        #expect((deployed.json["digest"] as? String)?.count == 64)
        let first = try await worker.invoke("hello", #"{"n":1}"#)
        #expect(first.status == 200)
        #expect(first.text == #"{"echo":{"n":1}}"#)
        #expect(first.start == "fresh")
        #expect(first.headers["X-Pipsqueak-Duration-Ms"].first.flatMap(Double.init) != nil)
        let second = try await worker.invoke("hello", #"{"n":2}"#)
        #expect(second.start == "warm")
        try await waitUntil { ((try await worker.status()["instances"] as? [String: Any])?["paused"] as? Int) == 1 }
        let thawed = try await worker.invoke("hello", #"{"n":3}"#)
        #expect(thawed.start == "warm")
        #expect(thawed.text == #"{"echo":{"n":3}}"#)
        let tier = (try await worker.status()["tiers"] as? [String: Any])?["handler_cache"] as? [String: Any]
        #expect(tier?["hits"] as? Int == 2)
        #expect(tier?["misses"] as? Int == 1)
    }

    @Test func disabledHandlerCacheStartsFreshEveryTime() async throws {
        let worker = try WorkerProcess(arguments: ["--handler-cache-mb", "0", "--import-cache-mb", "0"])
        defer { worker.stop() }
        try await worker.deploy("hello", ["f.py": Handlers.echo])
        #expect(try await worker.invoke("hello").start == "fresh")
        #expect(try await worker.invoke("hello").start == "fresh")
    }

    @Test func smallMemoryBudgetEvictsLeastRecentlyUsedInstances() async throws {
        let worker = try WorkerProcess(arguments: ["--handler-cache-mb", "20", "--import-cache-mb", "0"])
        defer { worker.stop() }
        // Each instance keeps 12 MiB alive, so only one fits the 20 MiB budget.
        let hoarder = "BALLAST = bytearray(12 << 20)\nfor i in range(0, len(BALLAST), 4096):\n    BALLAST[i] = 1\ndef f(e):\n    return len(BALLAST)\n"
        for name in ["one", "two", "three"] {
            try await worker.deploy(name, ["f.py": hoarder])
            #expect(try await worker.invoke(name).status == 200)
        }
        // Eviction runs in the background upkeep; wait until the cached instances fit the budget.
        try await waitUntil {
            let status = try await worker.status()
            let tier = (status["tiers"] as? [String: Any])?["handler_cache"] as? [String: Any]
            return (tier?["evictions"] as? Int ?? 0) >= 1 && (status["memory_bytes"] as? Int ?? .max) <= 20 << 20
        }
        #expect(try await worker.invoke("three").start == "warm", "the most recently used instance survived")
        #expect(try await worker.invoke("one").start == "fresh", "the least recently used instance was evicted")
    }

    @Test func everyErrorHasItsStatusAndJSONBody() async throws {
        let worker = try WorkerProcess(arguments: ["--max-event-kb", "1", "--max-upload-mb", "1"])
        defer { worker.stop() }
        try await worker.deploy("hello", ["f.py": Handlers.echo])
        try await worker.deploy("raiser", ["f.py": Handlers.raiser])
        try await worker.deploy("crasher", ["f.py": Handlers.crasher])
        try await worker.deploy("sleeper", ["f.py": Handlers.sleeper, "pipsqueak.yaml": "timeout_s: 0.5\n"])
        try await worker.deploy("broken", ["f.py": "def f(event:\n"])

        let badJSON = try await worker.invoke("hello", "{nope")
        #expect(badJSON.status == 400 && badJSON.errorCode == "invalid_json")
        let badName = try await worker.invoke("bad.name")
        #expect(badName.status == 400 && badName.errorCode == "invalid_name")
        let unknown = try await worker.invoke("nobody")
        #expect(unknown.status == 404 && unknown.errorCode == "not_found")
        let tooBig = try await worker.invoke("hello", "\"" + String(repeating: "x", count: 4096) + "\"")
        #expect(tooBig.status == 413 && tooBig.errorCode == "payload_too_large")
        let hugeUpload = try await worker.request(.PUT, "/handlers/huge", body: [UInt8](repeating: 7, count: 2 << 20))
        #expect(hugeUpload.status == 413)

        let raised = try await worker.invoke("raiser", "42")
        #expect(raised.status == 502 && raised.errorCode == "handler_error")
        #expect(raised.error["exception"] as? String == "ValueError")
        #expect((raised.error["message"] as? String)?.contains("bad input: 42") == true)
        #expect((raised.error["traceback"] as? String)?.contains("raise ValueError") == true)

        let crashed = try await worker.invoke("crasher")
        #expect(crashed.status == 502 && crashed.errorCode == "handler_crashed", "\(crashed.text)")
        #expect((crashed.error["message"] as? String)?.contains("status 3") == true)

        let timedOut = try await worker.invoke("sleeper", #"{"seconds": 5}"#)
        #expect(timedOut.status == 504 && timedOut.errorCode == "timeout")

        let broken = try await worker.invoke("broken")
        #expect(broken.status == 502 && broken.error["exception"] as? String == "SyntaxError")

        let badArchive = try await worker.request(.PUT, "/handlers/x", body: Array("not a tarball".utf8))
        #expect(badArchive.status == 400 && badArchive.errorCode == "invalid_archive")
        let badManifest = try await worker.deploy("x", ["f.py": Handlers.echo, "pipsqueak.yaml": "colour: blue\n"])
        #expect(badManifest.status == 400 && badManifest.errorCode == "invalid_manifest")
        let noEntry = try await worker.deploy("x", ["main.py": Handlers.echo])
        #expect(noEntry.status == 400 && noEntry.errorCode == "invalid_archive")

        let afterAll = try await worker.invoke("hello", "1")
        #expect(afterAll.status == 200, "worker keeps serving after every failure")
    }

    @Test func awsStyleEntryReceivesAContext() async throws {
        let worker = try WorkerProcess()
        defer { worker.stop() }
        try await worker.deploy("aws", ["lambda_function.py": Handlers.awsStyle,
                                        "pipsqueak.yaml": "entry: lambda_function.lambda_handler\ntimeout_s: 10\n"])
        let reply = try await worker.invoke("aws", #"{"k":"v"}"#)
        #expect(reply.status == 200, "\(reply.text)")
        #expect(reply.json["function_name"] as? String == "aws")
        #expect((reply.json["request_id"] as? String)?.isEmpty == false)
        let remaining = reply.json["remaining_ms"] as? Int ?? 0
        #expect(remaining > 5000 && remaining <= 10000)
    }

    @Test func environmentFromManifestIsVisible() async throws {
        let worker = try WorkerProcess()
        defer { worker.stop() }
        try await worker.deploy("env", ["f.py": "import os\ndef f(e):\n    return [os.environ.get('MODE'), os.environ.get('PIPSQUEAK_HANDLER')]\n",
                                        "pipsqueak.yaml": "environment:\n  MODE: turbo\n"])
        #expect(try await worker.invoke("env").text == #"["turbo","env"]"#)
    }

    @Test func handlerOutputGoesToItsLogFile() async throws {
        let worker = try WorkerProcess()
        defer { worker.stop() }
        try await worker.deploy("talker", ["f.py": "def f(e):\n    print('hello from the handler', e)\n    return 1\n"])
        #expect(try await worker.invoke("talker", "7").status == 200)
        let log = try String(contentsOf: worker.stateDirectory.appendingPathComponent("logs/talker.log"), encoding: .utf8)
        #expect(log.contains("hello from the handler 7"))
    }

    @Test func redeployReplacesCodeAndNeverReusesOldInstances() async throws {
        let worker = try WorkerProcess(arguments: ["--import-cache-mb", "0"])
        defer { worker.stop() }
        try await worker.deploy("v", ["f.py": "def f(e):\n    return 1\n"])
        #expect(try await worker.invoke("v").text == "1")
        #expect(try await worker.invoke("v").start == "warm")
        try await worker.deploy("v", ["f.py": "def f(e):\n    return 2\n"])
        let after = try await worker.invoke("v")
        #expect(after.text == "2")
        #expect(after.start == "fresh")
        #expect(try await worker.request(.DELETE, "/handlers/v").status == 204)
        #expect(try await worker.invoke("v").status == 404)
        #expect(try await worker.request(.DELETE, "/handlers/v").status == 404)
    }

    @Test func concurrentRequestsScaleOutThenQueueThenGet503() async throws {
        let worker = try WorkerProcess(arguments: ["--max-queue", "1"])
        defer { worker.stop() }
        try await worker.deploy("slow", ["f.py": Handlers.sleeper, "pipsqueak.yaml": "max_instances: 2\n"])
        let replies = try await withThrowingTaskGroup(of: Reply.self) { group in
            for _ in 0..<5 { group.addTask { try await worker.invoke("slow", #"{"seconds": 1.5}"#) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let ok = replies.filter { $0.status == 200 }
        let overloaded = replies.filter { $0.status == 503 }
        #expect(ok.count == 3, "two instances plus one queued request: \(replies.map(\.status))")
        #expect(overloaded.count == 2)
        #expect(overloaded.allSatisfy { $0.errorCode == "overloaded" && $0.headers["Retry-After"].first == "1" })
        let instances = try await worker.status()["instances"] as? [String: Any]
        #expect((instances?["live"] as? Int ?? 0) + (instances?["paused"] as? Int ?? 0) == 2)
    }

    @Test func listingAndStatusAndMetrics() async throws {
        let worker = try WorkerProcess(arguments: ["--import-cache-mb", "0"])
        defer { worker.stop() }
        try await worker.deploy("a", ["f.py": Handlers.echo])
        try await worker.deploy("b", ["f.py": Handlers.echo])
        _ = try await worker.invoke("a")
        let list = try JSONSerialization.jsonObject(with: try await worker.request(.GET, "/handlers").body) as? [[String: Any]]
        #expect(list?.compactMap { $0["name"] as? String } == ["a", "b"])
        #expect(try await worker.request(.GET, "/handlers/a").json["name"] as? String == "a")
        #expect(try await worker.status()["handlers"] as? Int == 2)
        let metrics = try await worker.request(.GET, "/metrics").text
        #expect(metrics.contains("pipsqueak_invocations_total"))
        #expect(metrics.contains("start=\"fresh\""))
    }
}

func waitUntil(timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        if ContinuousClock.now > deadline { throw WorkerTestError("condition not met within \(timeout)") }
        try await Task.sleep(for: .milliseconds(50))
    }
}
