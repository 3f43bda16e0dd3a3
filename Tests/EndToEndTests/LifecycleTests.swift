import Foundation
import Testing

/// Restarts and shutdown: state survives, nothing is left behind.
@Suite(.serialized, .enabled(if: isRoot, rootOnlyReason))
struct LifecycleTests {
    @Test func sigtermLeavesNoProcessesCgroupsOrMounts() async throws {
        let worker = try WorkerProcess(arguments: ["--freeze-after-ms", "50"])
        try await worker.deploy("a", ["f.py": Handlers.echo])
        try await worker.deploy("b", ["f.py": Handlers.forkBomb])
        _ = try await worker.invoke("a")
        _ = try await worker.invoke("b")
        #expect(!helperProcesses(for: worker.stateDirectory).isEmpty)
        #expect(!worker.sandboxCgroups().isEmpty)
        #expect(worker.stop(signal: SIGTERM) == 0)
        #expect(helperProcesses(for: worker.stateDirectory).isEmpty)
        #expect(worker.cgroupDirectories().isEmpty, "left: \(worker.cgroupDirectories())")
        let mounts = try String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)
        #expect(!mounts.contains(worker.stateDirectory.path))
        #expect(worker.log.contains("all sandboxes removed"))
    }

    @Test func restartAfterCrashKeepsHandlersAndRemovesStaleSandboxes() async throws {
        let crashed = try WorkerProcess(arguments: ["--import-cache-mb", "0"])
        try await crashed.deploy("keep", ["f.py": Handlers.echo])
        #expect(try await crashed.invoke("keep", "1").status == 200)
        crashed.stop(signal: SIGKILL)
        #expect(!crashed.sandboxCgroups().isEmpty, "a killed worker leaves its sandbox behind")

        let restarted = try WorkerProcess(stateDirectory: crashed.stateDirectory, arguments: ["--import-cache-mb", "0"])
        defer { restarted.stop() }
        #expect(restarted.sandboxCgroups().isEmpty, "stale sandboxes were removed at start")
        try await waitUntil { helperProcesses(for: crashed.stateDirectory).isEmpty }
        let reply = try await restarted.invoke("keep", "2")
        #expect(reply.status == 200)
        #expect(reply.text == #"{"echo":2}"#)
        #expect(reply.start == "fresh")
    }

    @Test func interruptedWritesAreIgnoredOnRestart() async throws {
        let first = try WorkerProcess()
        try await first.deploy("good", ["f.py": Handlers.echo])
        first.stop()
        let handlers = first.stateDirectory.appendingPathComponent("handlers")
        try Data("{half".utf8).write(to: handlers.appendingPathComponent(".good.json.tmp-1-2"))
        try Data("{garbage".utf8).write(to: handlers.appendingPathComponent("garbage.json"))
        let second = try WorkerProcess(stateDirectory: first.stateDirectory)
        defer { second.stop() }
        let list = try JSONSerialization.jsonObject(with: try await second.request(.GET, "/handlers").body) as? [[String: Any]]
        #expect(list?.compactMap { $0["name"] as? String } == ["good"])
        #expect(!FileManager.default.fileExists(atPath: handlers.appendingPathComponent(".good.json.tmp-1-2").path))
    }
}
