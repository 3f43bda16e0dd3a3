import Foundation
import Testing

/// A local package index built for these tests (no PyPI): wheels with exact versions, pins and name spellings,
/// and sdists whose build scripts fail, sleep or misbehave — cases that need exact control. Random dependency
/// graphs come from PipBench instead (`GeneratedIndexTests`).
final class FixtureIndex: Sendable {
    let directory: URL
    /// A host path the malicious build script tries to write.
    let hostMarker: URL
    /// A world-readable host file outside /tmp that package code in a zygote tries to read.
    let hostSecret: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("pipsqueak-index-\(UUID().uuidString.prefix(8))")
        hostMarker = directory.appendingPathComponent("evil-was-here")
        hostSecret = URL(fileURLWithPath: "/var/lib/pipsqueak-tests/\(UUID().uuidString.prefix(8))/secret.txt")
        try FileManager.default.createDirectory(at: hostSecret.deletingLastPathComponent(), withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        try "host secret".write(to: hostSecret, atomically: true, encoding: .utf8)
        chmod(hostSecret.path, 0o644)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/make_index.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [script.path, directory.path, hostMarker.path, hostSecret.path]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw WorkerTestError("make_index.py failed") }
    }

    deinit {
        try? FileManager.default.removeItem(at: hostSecret.deletingLastPathComponent())
        try? FileManager.default.removeItem(at: directory)
    }

    var workerArguments: [String] {
        ["--index-url", "file://\(directory.path)/simple", "--find-links", directory.appendingPathComponent("links").path]
    }
}

/// The install cache against a real worker and the fixture index.
@Suite(.serialized, .enabled(if: isRoot, rootOnlyReason))
struct InstallCacheTests {
    static let importer = """
        import importlib
        def f(event):
            result = {}
            for name in event:
                try:
                    module = importlib.import_module(name)
                    result[name] = getattr(module, "VALUE", getattr(module, "VERSION", "imported"))
                except ImportError as error:
                    result[name] = type(error).__name__
            return result
        """

    func packages(_ worker: WorkerProcess) async throws -> [[String: Any]] {
        try JSONSerialization.jsonObject(with: try await worker.request(.GET, "/packages").body) as? [[String: Any]] ?? []
    }

    func stagingLeftovers(_ worker: WorkerProcess) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: worker.stateDirectory.appendingPathComponent("packages/.staging").path)) ?? []
    }

    @Test func closuresAreInstalledOnceSharedAndIsolated() async throws {
        let index = try FixtureIndex()
        let worker = try WorkerProcess(arguments: index.workerArguments)
        defer { worker.stop() }

        let a = try await worker.deploy("uses-alpha", ["f.py": Self.importer, "requirements.txt": "alpha\n"])
        try #require(a.status == 201, "\(a.text)")
        let record = try await worker.request(.GET, "/handlers/uses-alpha").json
        let lock = (record["packages"] as? [[String: String]])?.map { "\($0["name"]!)==\($0["version"]!)" }
        #expect(lock == ["alpha==1.0", "beta==2.0"], "transitive dependency resolved and locked")

        let first = try await worker.invoke("uses-alpha", #"["alpha", "beta", "gamma"]"#)
        #expect(first.status == 200, "\(first.text)")
        #expect(first.json["alpha"] as? String == "alpha sees beta 2.0")
        #expect(first.json["gamma"] as? String == "ModuleNotFoundError", "gamma is outside this handler's closure")

        try #require(try await worker.deploy("uses-gamma", ["f.py": Self.importer, "requirements.txt": "gamma\n"]).status == 201)
        try #require(try await worker.deploy("old-beta", ["f.py": Self.importer, "requirements.txt": "beta==1.0\n"]).status == 201)
        try #require(try await worker.deploy("no-deps", ["f.py": Self.importer]).status == 201)
        #expect(try await worker.invoke("uses-gamma", #"["gamma", "beta"]"#).json as NSDictionary == ["gamma": "2.0", "beta": "2.0"])
        #expect(try await worker.invoke("old-beta", #"["beta", "alpha"]"#).json as NSDictionary == ["beta": "1.0", "alpha": "ModuleNotFoundError"])
        #expect(try await worker.invoke("no-deps", #"["beta", "alpha"]"#).json as NSDictionary
                == ["beta": "ModuleNotFoundError", "alpha": "ModuleNotFoundError"])

        let listing = try await packages(worker)
        let beta2 = listing.filter { $0["name"] as? String == "beta" && $0["version"] as? String == "2.0" }
        #expect(beta2.count == 1, "beta 2.0 is stored once")
        #expect((beta2.first?["handlers"] as? [String])?.sorted() == ["uses-alpha", "uses-gamma"])
        #expect((beta2.first?["installed_bytes"] as? Int ?? 0) > 0)
        #expect(beta2.first?["top_level"] as? [String] == ["beta"])
        #expect((beta2.first?["import_seconds"] as? Double ?? 0) > 0)
        #expect((beta2.first?["download_seconds"] as? Double ?? 0) > 0, "download timed apart from install")
        #expect((beta2.first?["install_seconds"] as? Double ?? 0) > 0)
        #expect(!worker.log.contains("import measurement failed"), "every import was measured")
        let tier = (try await worker.status()["tiers"] as? [String: Any])?["install_cache"] as? [String: Any]
        #expect(tier?["misses"] as? Int == 4, "alpha, beta 2.0, gamma, beta 1.0 installed once each")
        #expect((tier?["hits"] as? Int ?? 0) >= 1)

        let store = worker.stateDirectory.appendingPathComponent("packages/beta/2.0/site/beta/__init__.py").path
        let attributes = try FileManager.default.attributesOfItem(atPath: store)
        #expect((attributes[.posixPermissions] as? Int ?? 0o777) & 0o222 == 0, "installed files are read-only")
        #expect(stagingLeftovers(worker).isEmpty)
    }

    @Test func unresolvableAndFailingPackagesLeaveNothingBehind() async throws {
        let index = try FixtureIndex()
        let worker = try WorkerProcess(arguments: index.workerArguments)
        defer { worker.stop() }

        let missing = try await worker.deploy("missing", ["f.py": Self.importer, "requirements.txt": "no-such-package>=1\n"])
        #expect(missing.status == 422 && missing.errorCode == "unresolvable_requirements", "\(missing.text)")
        #expect((missing.error["message"] as? String)?.contains("no-such-package") == true)

        let broken = try await worker.deploy("broken", ["f.py": Self.importer, "requirements.txt": "broken\n"])
        #expect(broken.status == 422, "\(broken.text)")
        #expect(["install_failed", "unresolvable_requirements"].contains(broken.errorCode ?? ""))
        #expect((broken.error["pip_output"] as? String)?.contains("always fails") == true)

        let badLine = try await worker.deploy("bad-line", ["f.py": Self.importer, "requirements.txt": "-e /etc\n"])
        #expect(badLine.status == 400)

        #expect(try await worker.invoke("missing").status == 404)
        #expect(try await worker.invoke("broken").status == 404)
        #expect(try await packages(worker).isEmpty)
        #expect(stagingLeftovers(worker).isEmpty)
        #expect(try await worker.invoke("missing").status == 404, "worker still serving")
    }

    @Test func maliciousBuildScriptCannotWriteOutsideItsStaging() async throws {
        let index = try FixtureIndex()
        let worker = try WorkerProcess(arguments: index.workerArguments)
        defer { worker.stop() }
        let reply = try await worker.deploy("evil", ["f.py": Self.importer, "requirements.txt": "evil\n"])
        #expect(reply.status == 201, "\(reply.text)")
        #expect(!FileManager.default.fileExists(atPath: index.hostMarker.path), "wrote to the host")
        for path in ["/usr/evil-marker", "/etc/evil-marker", "/evil-marker"] {
            #expect(!FileManager.default.fileExists(atPath: path), "wrote \(path)")
        }
        #expect(try await worker.invoke("evil", #"["evil"]"#).json["evil"] as? String == "1.0")
    }

    @Test func namesAreNormalizedAndGarbageCollected() async throws {
        let index = try FixtureIndex()
        let worker = try WorkerProcess(arguments: index.workerArguments)
        defer { worker.stop() }
        try #require(try await worker.deploy("delta", ["f.py": Self.importer, "requirements.txt": "delta.pkg\n"]).status == 201)
        #expect(try await packages(worker).first?["name"] as? String == "delta-pkg")
        #expect(try await worker.invoke("delta", #"["delta_pkg"]"#).json["delta_pkg"] as? String == "imported")
        #expect(try await worker.request(.DELETE, "/handlers/delta").status == 204)
        let collected = try await worker.request(.POST, "/packages/gc").json
        #expect(collected["removed"] as? [String] == ["delta-pkg==3.1"])
        #expect(try await packages(worker).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: worker.stateDirectory.appendingPathComponent("packages/delta-pkg").path))
    }

    @Test func concurrentDeploysWaitForTheSameInstall() async throws {
        let index = try FixtureIndex()
        let worker = try WorkerProcess(arguments: index.workerArguments)
        defer { worker.stop() }
        let replies = try await withThrowingTaskGroup(of: Reply.self) { group in
            for name in ["first", "second", "third"] {
                group.addTask { try await worker.deploy(name, ["f.py": Self.importer, "requirements.txt": "slowpoke==1.0\n"]) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(replies.allSatisfy { $0.status == 201 }, "\(replies.map(\.text))")
        let tier = (try await worker.status()["tiers"] as? [String: Any])?["install_cache"] as? [String: Any]
        #expect(tier?["misses"] as? Int == 1, "one install served all three deploys")
        #expect(try await packages(worker).count == 1)
    }

    @Test func workerKilledDuringInstallRestartsCleanly() async throws {
        let index = try FixtureIndex()
        let worker = try WorkerProcess(arguments: index.workerArguments)
        let deploy = Task { try? await worker.deploy("slow", ["f.py": Self.importer, "requirements.txt": "slowpoke\n"]) }
        try await waitUntil(timeout: .seconds(30)) {
            let jobs = try JSONSerialization.jsonObject(with: try await worker.request(.GET, "/installs").body) as? [[String: Any]]
            return (jobs?.first?["phase"] as? String)?.hasPrefix("installing slowpoke") == true
        }
        worker.stop(signal: SIGKILL)
        _ = await deploy.value

        let restarted = try WorkerProcess(stateDirectory: worker.stateDirectory, arguments: index.workerArguments)
        defer { restarted.stop() }
        let slowpoke = restarted.stateDirectory.appendingPathComponent("packages/slowpoke/1.0")
        let present = FileManager.default.fileExists(atPath: slowpoke.path)
        if present {
            #expect(FileManager.default.fileExists(atPath: slowpoke.appendingPathComponent("meta.json").path), "complete, or absent")
        }
        #expect(stagingLeftovers(restarted).isEmpty)
        #expect(try await restarted.invoke("slow").status == 404, "the interrupted deploy never happened")
        let again = try await restarted.deploy("slow", ["f.py": Self.importer, "requirements.txt": "slowpoke\n"])
        #expect(again.status == 201)
        #expect(try await restarted.invoke("slow", #"["slowpoke"]"#).json["slowpoke"] as? String == "1.0")
    }

    @Test func removedPackagesAreReinstalledOnTheNextRun() async throws {
        let index = try FixtureIndex()
        let first = try WorkerProcess(arguments: index.workerArguments)
        try #require(try await first.deploy("uses-gamma", ["f.py": Self.importer, "requirements.txt": "gamma\n"]).status == 201)
        first.stop()
        let gamma = first.stateDirectory.appendingPathComponent("packages/gamma")
        try FileManager.default.removeItem(at: gamma)
        let second = try WorkerProcess(stateDirectory: first.stateDirectory, arguments: index.workerArguments)
        defer { second.stop() }
        let reply = try await second.invoke("uses-gamma", #"["gamma"]"#)
        #expect(reply.status == 200, "\(reply.text)")
        #expect(reply.start == "install")
        #expect(reply.json["gamma"] as? String == "2.0")
        #expect(try await second.invoke("uses-gamma", #"["gamma"]"#).start == "warm")
    }
}
