import Foundation
import Testing

/// The import cache against a real worker: forks from zygotes, the subset rule, hostile packages in zygotes,
/// zygote deaths, concurrency, eviction and redeploys.
@Suite(.serialized, .enabled(if: isRoot, rootOnlyReason))
struct ImportTierTests {
    /// Reports which of the event's modules the interpreter had already imported before this call, and values.
    static let inspector = """
        import builtins, importlib, json, os, sys
        def f(event):
            preloaded = sorted(name for name in event.get("modules", []) if name in sys.modules)
            values = {}
            for name in event.get("modules", []):
                try:
                    module = importlib.import_module(name)
                    values[name] = getattr(module, "VALUE", getattr(module, "VERSION", "imported"))
                except ImportError as error:
                    values[name] = type(error).__name__
            return {"preloaded": preloaded, "values": values, "evil": hasattr(builtins, "EVIL_WAS_HERE"),
                    "tmp_marker": os.path.exists("/tmp/evil-persist"), "json_works": json.dumps([1]) == "[1]",
                    "pid": os.getpid()}
        """

    func liveZygote(holding package: String, in worker: WorkerProcess) async throws -> [String: Any]? {
        try await worker.zygotes().first { ($0["packages"] as? [String])?.contains { $0.hasPrefix(package + "==") } == true && $0["alive"] as? Bool == true }
    }

    func waitForZygote(holding package: String, in worker: WorkerProcess) async throws -> [String: Any] {
        try await waitUntil(timeout: .seconds(120)) { try await liveZygote(holding: package, in: worker) != nil }
        return try #require(try await liveZygote(holding: package, in: worker))
    }

    func event(_ modules: [String]) -> String { String(decoding: try! JSONSerialization.data(withJSONObject: ["modules": modules]), as: UTF8.self) }

    @Test func coldStartsForkAZygoteThatAlreadyImportedTheirPackages() async throws {
        let index = try FixtureIndex()
        let worker = try WorkerProcess(arguments: index.workerArguments + ["--import-cache-tree", "alpha"])
        defer { worker.stop() }
        let zygote = try await waitForZygote(holding: "alpha", in: worker)
        #expect(Set(zygote["packages"] as? [String] ?? []) == ["alpha==1.0", "beta==2.0"], "\(zygote)")
        try #require(try await worker.deploy("uses-alpha", ["f.py": Self.inspector, "requirements.txt": "alpha\n"]).status == 201)
        let reply = try await worker.invoke("uses-alpha", event(["alpha", "beta"]))
        try #require(reply.status == 200, "\(reply.text)")
        #expect(reply.start == "import")
        #expect(reply.json["preloaded"] as? [String] == ["alpha", "beta"], "the zygote had imported them: \(reply.text)")
        #expect((reply.json["values"] as? [String: String])?["alpha"] == "alpha sees beta 2.0")
        #expect(reply.json["pid"] as? Int == 2)
        let after = try #require(try await liveZygote(holding: "alpha", in: worker))
        #expect(after["hits"] as? Int == 1)
        let metrics = try await worker.request(.GET, "/metrics").text
        #expect(metrics.contains("start=\"import\""))
    }

    /// A zygote holding a package a handler does not depend on, or another version of one it does, never serves
    /// it; a vetted extra may.
    @Test func theSubsetRuleDecidesWhichZygoteServes() async throws {
        let index = try FixtureIndex()
        let worker = try WorkerProcess(arguments: index.workerArguments + ["--import-cache-tree", "alpha"])
        defer { worker.stop() }
        _ = try await waitForZygote(holding: "alpha", in: worker)
        // beta 2.0 only: the alpha zygote holds alpha too, so the root serves.
        try #require(try await worker.deploy("beta-only", ["f.py": Self.inspector, "requirements.txt": "beta\n"]).status == 201)
        let betaOnly = try await worker.invoke("beta-only", event(["alpha", "beta"]))
        #expect(betaOnly.start == "import")
        #expect(betaOnly.json["preloaded"] as? [String] == [], "nothing of the alpha zygote: \(betaOnly.text)")
        #expect((betaOnly.json["values"] as? [String: String])?["alpha"] == "ModuleNotFoundError")
        // alpha with beta pinned to 1.0: the zygote's beta is 2.0, so not that zygote either.
        try #require(try await worker.deploy("old-beta", ["f.py": Self.inspector, "requirements.txt": "alpha\nbeta==1.0\n"]).status == 201)
        let oldBeta = try await worker.invoke("old-beta", event(["alpha", "beta"]))
        #expect(oldBeta.json["preloaded"] as? [String] == [], "\(oldBeta.text)")
        #expect((oldBeta.json["values"] as? [String: String])?["beta"] == "1.0")
        #expect(try await liveZygote(holding: "alpha", in: worker)?["hits"] as? Int == 0)
    }

    @Test func aVettedExtraPackageMayBeServed() async throws {
        let index = try FixtureIndex()
        let worker = try WorkerProcess(arguments: index.workerArguments + ["--import-cache-tree", "alpha", "--vetted-packages", "alpha"])
        defer { worker.stop() }
        _ = try await waitForZygote(holding: "alpha", in: worker)
        try #require(try await worker.deploy("beta-only", ["f.py": Self.inspector, "requirements.txt": "beta\n"]).status == 201)
        let reply = try await worker.invoke("beta-only", event(["beta"]))
        #expect(reply.start == "import")
        #expect(reply.json["preloaded"] as? [String] == ["beta"], "served by the alpha zygote: \(reply.text)")
        #expect(try await liveZygote(holding: "alpha", in: worker)?["hits"] as? Int == 1)
    }

    /// A malicious package imported in a zygote: its escape attempts fail, and what it leaves in the zygote reaches
    /// only handlers that depend on it.
    @Test func aHostilePackageInAZygoteReachesOnlyItsOwnHandlers() async throws {
        let index = try FixtureIndex()
        let worker = try WorkerProcess(arguments: index.workerArguments + ["--import-cache-tree", "evilzyg"])
        defer { worker.stop() }
        _ = try await waitForZygote(holding: "evilzyg", in: worker)
        let report = """
            import builtins, evilzyg
            def f(event):
                return {"results": evilzyg.RESULTS, "evil": hasattr(builtins, "EVIL_WAS_HERE")}
            """
        try #require(try await worker.deploy("victim-of-choice", ["f.py": report, "requirements.txt": "evilzyg\n"]).status == 201)
        try #require(try await worker.deploy("bystander", ["f.py": Self.inspector]).status == 201)
        try #require(try await worker.deploy("bystander-too", ["f.py": Self.inspector, "requirements.txt": "alpha\n"]).status == 201)

        let own = try await worker.invoke("victim-of-choice")
        try #require(own.status == 200, "\(own.text)")
        #expect(own.start == "import")
        #expect(own.json["evil"] as? Bool == true, "it was forked from the evil zygote")
        let results = own.json["results"] as? [String: Any] ?? [:]
        #expect(results["read_host_secret"] as? String == "FileNotFoundError", "\(results)")
        #expect(results["write_usr"] as? String == "OSError", "\(results)")
        #expect(results["mount"] as? Int == Int(EPERM))
        #expect(results["unshare_user"] as? Int == Int(EPERM))
        #expect(results["ptrace"] as? Int == Int(EPERM))
        #expect(results["pids"] as? [Int] == [1, 2], "the zygote sees only its own pid namespace: \(results)")

        for bystander in ["bystander", "bystander-too"] {
            let reply = try await worker.invoke(bystander, event(["evilzyg"]))
            try #require(reply.status == 200, "\(reply.text)")
            #expect(reply.json["evil"] as? Bool == false, "\(bystander): \(reply.text)")
            #expect(reply.json["tmp_marker"] as? Bool == false)
            #expect(reply.json["json_works"] as? Bool == true)
            #expect((reply.json["values"] as? [String: String])?["evilzyg"] == "ModuleNotFoundError")
        }
        #expect(kill(worker.pid, 0) == 0)
    }

    @Test func aKilledZygoteNeverFailsARequest() async throws {
        let index = try FixtureIndex()
        let worker = try WorkerProcess(arguments: index.workerArguments + ["--import-cache-tree", "alpha", "--prepared-sandboxes", "0"])
        defer { worker.stop() }
        let zygote = try await waitForZygote(holding: "alpha", in: worker)
        try #require(try await worker.deploy("uses-alpha", ["f.py": Self.inspector, "requirements.txt": "alpha\n"]).status == 201)
        let warmUp = try await worker.invoke("uses-alpha", event(["alpha"]))
        #expect(warmUp.start == "import")
        let pid = try #require(zygote["pid"] as? Int)
        #expect(kill(Int32(pid), SIGKILL) == 0)
        // The instance it forked earlier keeps working: it lives in its own sandbox.
        #expect(try await worker.invoke("uses-alpha", event(["alpha"])).status == 200)
        try await worker.deploy("uses-alpha", ["f.py": Self.inspector + "\n# v2\n", "requirements.txt": "alpha\n"])
        let cold = try await worker.invoke("uses-alpha", event(["alpha"]))
        #expect(cold.status == 200, "\(cold.text)")
        #expect(["import", "fresh"].contains(cold.start ?? ""))
        #expect(cold.json["preloaded"] as? [String] == [], "not from the dead zygote: \(cold.text)")
        try await waitUntil { try await self.liveZygote(holding: "alpha", in: worker) == nil }
    }

    @Test func concurrentColdStartsShareOneZygote() async throws {
        let index = try FixtureIndex()
        let worker = try WorkerProcess(arguments: index.workerArguments + ["--import-cache-tree", "alpha"])
        defer { worker.stop() }
        _ = try await waitForZygote(holding: "alpha", in: worker)
        let names = (1...8).map { "h\($0)" }
        for name in names {
            try #require(try await worker.deploy(name, ["f.py": Self.inspector, "requirements.txt": "alpha\n"]).status == 201)
        }
        let replies = try await withThrowingTaskGroup(of: Reply.self) { group in
            for name in names { group.addTask { try await worker.invoke(name, self.event(["alpha"])) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(replies.allSatisfy { $0.status == 200 }, "\(replies.map(\.text))")
        #expect(replies.allSatisfy { $0.start == "import" && $0.json["preloaded"] as? [String] == ["alpha"] }, "\(replies.map(\.text))")
        #expect(try await liveZygote(holding: "alpha", in: worker)?["hits"] as? Int == 8)
    }

    /// Cold starts that wait on a slow import grow a zygote for it; a small budget evicts it again.
    @Test func theTreeGrowsFromMissesAndShrinksUnderASmallBudget() async throws {
        let index = try FixtureIndex()
        let worker = try WorkerProcess(arguments: index.workerArguments + ["--import-cache-mb", "30"])
        defer { worker.stop() }
        try await worker.waitForRootZygote()
        try #require(try await worker.deploy("slow", ["f.py": Self.inspector, "requirements.txt": "slowimport\n"]).status == 201)
        #expect(try await worker.invoke("slow", event(["slowimport"])).json["preloaded"] as? [String] == [])
        _ = try await waitForZygote(holding: "slowimport", in: worker)
        try await worker.deploy("slow", ["f.py": Self.inspector + "\n# v2\n", "requirements.txt": "slowimport\n"])
        let served = try await worker.invoke("slow", event(["slowimport"]))
        #expect(served.start == "import" && served.json["preloaded"] as? [String] == ["slowimport"], "\(served.text)")
        // bigimport holds 24 MiB: its zygote, the root and the slowimport one do not fit in 30 MiB.
        try #require(try await worker.deploy("big", ["f.py": Self.inspector, "requirements.txt": "bigimport\n"]).status == 201)
        _ = try await worker.invoke("big", event(["bigimport"]))
        try await waitUntil(timeout: .seconds(60)) {
            let tiers = (try await worker.status()["tiers"] as? [String: Any])?["import_cache"] as? [String: Any]
            return (tiers?["evictions"] as? Int ?? 0) >= 1
        }
        let alive = try await worker.zygotes().filter { $0["alive"] as? Bool == true }
        let charged = alive.reduce(0) { $0 + ((($1["memory"] as? [String: Any])?["charged"] as? Int) ?? 0) }
        #expect(charged <= 30 << 20, "the live tree fits its budget: \(alive)")
        #expect(try await worker.invoke("slow", event(["slowimport"])).status == 200)
    }

    @Test func aRedeployWithANewLockNeverUsesTheOldZygote() async throws {
        let index = try FixtureIndex()
        let worker = try WorkerProcess(arguments: index.workerArguments + ["--import-cache-tree", "alpha", "--prepared-sandboxes", "4"])
        defer { worker.stop() }
        _ = try await waitForZygote(holding: "alpha", in: worker)
        try #require(try await worker.deploy("moving", ["f.py": Self.inspector, "requirements.txt": "alpha\n"]).status == 201)
        #expect(try await worker.invoke("moving", event(["alpha"])).json["preloaded"] as? [String] == ["alpha"])
        try #require(try await worker.deploy("moving", ["f.py": Self.inspector, "requirements.txt": "alpha\nbeta==1.0\n"]).status == 201)
        let reply = try await worker.invoke("moving", event(["alpha", "beta"]))
        #expect(reply.status == 200)
        #expect(reply.json["preloaded"] as? [String] == [], "\(reply.text)")
        #expect((reply.json["values"] as? [String: String])?["beta"] == "1.0")
        #expect(try await liveZygote(holding: "alpha", in: worker)?["hits"] as? Int == 1)
    }

    /// Every check of the isolation probe holds for an instance forked from a zygote, as for a fresh one.
    @Test func theIsolationProbePassesInTheImportTier() async throws {
        let worker = try WorkerProcess()
        defer { worker.stop() }
        try await worker.waitForRootZygote()
        try #require(try await worker.deploy("victim", ["f.py": Handlers.echo, "secret.txt": "victim secret"]).status == 201)
        try #require(try await worker.deploy("probe", ["f.py": Handlers.probe]).status == 201)
        let victimDigest = try await worker.request(.GET, "/handlers/victim").json["digest"] as! String
        let event: [String: Any] = [
            "state_dir": worker.stateDirectory.path,
            "other_code": worker.stateDirectory.appendingPathComponent("code/\(victimDigest)/secret.txt").path,
            "worker_pid": Int(worker.pid),
        ]
        let reply = try await worker.invoke("probe", String(decoding: try JSONSerialization.data(withJSONObject: event), as: UTF8.self))
        try #require(reply.status == 200, "\(reply.text)")
        #expect(reply.start == "import")
        IsolationTests.expectIsolated(reply.json, worker: worker)
    }
}
