import Foundation
import Testing

/// Hostile handlers try to escape their sandbox; each attempt must fail and the worker must keep serving.
@Suite(.serialized, .enabled(if: isRoot, rootOnlyReason))
struct IsolationTests {
    @Test func probeSeesOnlyItsOwnSandbox() async throws {
        let worker = try WorkerProcess(arguments: ["--import-cache-mb", "0"])
        defer { worker.stop() }
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
        #expect(reply.start == "fresh")
        Self.expectIsolated(reply.json, worker: worker)
    }

    /// Every property the probe reports, for an instance of any tier.
    static func expectIsolated(_ result: [String: Any], worker: WorkerProcess) {
        #expect((result["uid"] as? Int ?? 0) >= 100_000)
        #expect(result["read_root_home"] as? String != "allowed")
        #expect(result["read_state_dir"] as? String == "FileNotFoundError")
        #expect(result["read_other_code"] as? String == "FileNotFoundError")
        #expect(result["handler_files"] as? [String] == ["f.py"])
        #expect((result["pids"] as? [Int])?.allSatisfy { $0 <= 2 } == true, "sees only init and itself: \(result["pids"] ?? "")")
        #expect(result["write_usr"] as? String == "OSError")
        #expect(result["write_root"] as? String == "OSError")
        #expect(result["write_etc"] as? String != "allowed")
        #expect(result["write_handler"] as? String == "OSError")
        #expect(result["write_tmp"] as? String == "allowed")
        #expect(result["cap_eff"] as? String == "0000000000000000")
        #expect(result["cap_bnd"] as? String == "0000000000000000")
        #expect(result["no_new_privs"] as? String == "1")
        #expect(result["seccomp"] as? String == "2")
        #expect(result["mount_errno"] as? Int == Int(EPERM))
        #expect(result["unshare_user_errno"] as? Int == Int(EPERM))
        #expect(result["setns_errno"] as? Int == Int(EPERM))
        #expect(result["ptrace_errno"] as? Int == Int(EPERM))
        #expect(result["kill_worker"] as? String == "ProcessLookupError")
        #expect(result["kill_init"] as? String == "PermissionError")
        #expect(result["network"] as? String != "allowed")
        #expect(result["dist_packages"] as? [String] == [])
        #expect(result["import_system_package"] as? String == "ModuleNotFoundError")
        #expect(kill(worker.pid, 0) == 0, "worker survived")
    }

    @Test func forkBombStopsAtThePidsLimit() async throws {
        let worker = try WorkerProcess(arguments: ["--pids-max", "64"])
        defer { worker.stop() }
        try #require(try await worker.deploy("bomb", ["f.py": Handlers.forkBomb]).status == 201)
        let reply = try await worker.invoke("bomb")
        #expect(reply.status == 200, "\(reply.text)")
        let children = reply.json["children"] as? Int ?? -1
        #expect(children > 0 && children < 64, "forked \(children)")
        #expect(reply.json["error"] as? String == "Resource temporarily unavailable")
        try await expectStillServing(worker)
    }

    @Test func memoryBombIsKilledAtTheMemoryLimit() async throws {
        let worker = try WorkerProcess()
        defer { worker.stop() }
        try #require(try await worker.deploy("hog", ["f.py": Handlers.memoryBomb, "pipsqueak.yaml": "memory_mb: 64\n"]).status == 201)
        let reply = try await worker.invoke("hog")
        #expect(reply.status == 502)
        #expect(reply.errorCode == "out_of_memory", "\(reply.text)")
        try await expectStillServing(worker)
        let again = try await worker.invoke("hog")
        #expect(again.errorCode == "out_of_memory", "a new instance replaces the killed one")
    }

    @Test func diskFillerStopsAtTheTmpLimit() async throws {
        let worker = try WorkerProcess(arguments: ["--tmp-mb", "8"])
        defer { worker.stop() }
        try #require(try await worker.deploy("filler", ["f.py": Handlers.diskFiller]).status == 201)
        let reply = try await worker.invoke("filler")
        #expect(reply.status == 200, "\(reply.text)")
        #expect((reply.json["written_mb"] as? Int ?? 99) <= 8)
        #expect(reply.json["error"] as? String == "No space left on device")
        try await expectStillServing(worker)
    }

    @Test func handlersCannotSeeEachOthersTmp() async throws {
        let worker = try WorkerProcess()
        defer { worker.stop() }
        let writer = "def f(e):\n    open('/tmp/shared', 'w').write('from writer')\n    return 'ok'\n"
        let reader = "import os\ndef f(e):\n    return os.path.exists('/tmp/shared')\n"
        try #require(try await worker.deploy("writer", ["f.py": writer]).status == 201)
        try #require(try await worker.deploy("reader", ["f.py": reader]).status == 201)
        #expect(try await worker.invoke("writer").status == 200)
        #expect(try await worker.invoke("reader").text == "false")
    }

    private func expectStillServing(_ worker: WorkerProcess) async throws {
        try #require(try await worker.deploy("alive", ["f.py": Handlers.echo]).status == 201)
        let reply = try await worker.invoke("alive", "[1,2]")
        #expect(reply.status == 200)
        #expect(reply.text == #"{"echo":[1,2]}"#)
    }
}
