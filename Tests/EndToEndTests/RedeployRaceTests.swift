import Foundation
import Testing

/// Requests and garbage collection racing a redeploy (issue 16).
@Suite(.serialized, .enabled(if: isRoot, rootOnlyReason))
struct RedeployRaceTests {
    static let slowV1 = "import time\ntime.sleep(2)\ndef f(event):\n    return 'v1'\n"
    static let v2 = "def f(event):\n    return 'v2'\n"

    /// Three requests start the old code (a 2 s import); a redeploy lands while they are starting. Each must run
    /// the code it was admitted with or the new code, never fail because the old code was removed under it.
    @Test func requestsStartingDuringARedeployRunOldOrNewCode() async throws {
        let worker = try WorkerProcess()
        defer { worker.stop() }
        try #require(try await worker.deploy("slow", ["f.py": Self.slowV1]).status == 201)
        let requests = (0..<3).map { _ in Task { try await worker.invoke("slow") } }
        try await waitUntil { ((try await worker.status()["instances"] as? [String: Any])?["starting"] as? Int) == 3 }
        try #require(try await worker.deploy("slow", ["f.py": Self.v2]).status == 201)
        for request in requests {
            let reply = try await request.value
            #expect(reply.status == 200, "\(reply.text)")
            #expect([#""v1""#, #""v2""#].contains(reply.text), "\(reply.text)")
        }
        for _ in 0..<3 { #expect(try await worker.invoke("slow").text == #""v2""#) }
        // The old code directory goes once no request holds it; only the new one stays.
        let newDigest = try #require(try await worker.request(.GET, "/handlers/slow").json["digest"] as? String)
        try await waitUntil {
            (try FileManager.default.contentsOfDirectory(atPath: worker.stateDirectory.appendingPathComponent("code").path)) == [newDigest]
        }
    }

    /// A request admitted before its handler is deleted still runs; the code goes when it ends.
    @Test func deleteWhileStartingLetsTheRequestFinish() async throws {
        let worker = try WorkerProcess()
        defer { worker.stop() }
        try #require(try await worker.deploy("slow", ["f.py": Self.slowV1]).status == 201)
        let request = Task { try await worker.invoke("slow") }
        try await waitUntil { ((try await worker.status()["instances"] as? [String: Any])?["starting"] as? Int) == 1 }
        #expect(try await worker.request(.DELETE, "/handlers/slow").status == 204)
        let reply = try await request.value
        #expect(reply.status == 200 && reply.text == #""v1""#, "\(reply.text)")
        #expect(try await worker.invoke("slow").status == 404)
        try await waitUntil {
            (try FileManager.default.contentsOfDirectory(atPath: worker.stateDirectory.appendingPathComponent("code").path)).isEmpty
        }
    }

    /// `POST /packages/gc` while a deploy is still installing must not remove what that deploy already installed.
    @Test func garbageCollectionSparesADeployInProgress() async throws {
        let index = try FixtureIndex()
        let worker = try WorkerProcess(arguments: index.workerArguments)
        defer { worker.stop() }
        // The closure installs in name order: alpha, beta, then slowpoke, whose build script sleeps 6 s.
        let deploy = Task {
            try await worker.deploy("late", ["f.py": InstallCacheTests.importer, "requirements.txt": "alpha\nslowpoke\n"])
        }
        try await waitUntil(timeout: .seconds(120)) {
            let jobs = try JSONSerialization.jsonObject(with: try await worker.request(.GET, "/installs").body) as? [[String: Any]] ?? []
            return jobs.contains { ($0["phase"] as? String)?.contains("slowpoke") == true }
        }
        let gc = try await worker.request(.POST, "/packages/gc")
        #expect(gc.status == 200)
        #expect(gc.json["removed"] as? [String] == [], "nothing the deploy installed is removed: \(gc.text)")
        let deployed = try await deploy.value
        try #require(deployed.status == 201, "\(deployed.text)")
        let reply = try await worker.invoke("late", #"["alpha", "slowpoke"]"#)
        #expect(reply.json["alpha"] as? String == "alpha sees beta 2.0", "\(reply.text)")
        #expect(reply.json["slowpoke"] as? String == "1.0", "\(reply.text)")
    }
}
