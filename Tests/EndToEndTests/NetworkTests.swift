import Foundation
import Testing

/// Sandboxes with a network reach the world but never the host's own services (issue 15). The package index lives
/// in a network namespace behind a veth pair, so it is not host-local, as an index on the LAN would not be.
@Suite(.serialized, .enabled(if: isRoot, rootOnlyReason))
struct NetworkTests {
    /// Fetches each URL of the event; reports the status or the exception type.
    static let fetcher = """
        import urllib.request
        def f(event):
            results = {}
            for url in event:
                try:
                    with urllib.request.urlopen(url, timeout=3) as reply:
                        results[url] = "answered %d" % reply.status
                except urllib.error.HTTPError as error:
                    results[url] = "answered %d" % error.code
                except Exception as error:
                    results[url] = "failed: " + type(error).__name__
            return results
        """

    /// Addresses on which a worker listening on 0.0.0.0 is host-local: loopback, slirp's host alias, every
    /// interface address (the veth's host end among them).
    static func hostURLs(port: Int, network: TestNetwork) -> [String] {
        let addresses = ["127.0.0.1", "10.0.2.2", network.hostAddress] + TestNetwork.hostAddresses()
        return Array(Set(addresses)).sorted().map { "http://\($0):\(port)" }
    }

    func startWorker(_ network: TestNetwork, _ extra: [String] = []) throws -> WorkerProcess {
        try WorkerProcess(arguments: ["--host", "0.0.0.0", "--index-url", "\(network.baseURL)/simple",
                                      "--trusted-host", "\(network.remoteAddress):\(network.port)"] + extra)
    }

    func makeIndex(targets: [String]) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pipsqueak-netindex-\(UUID().uuidString.prefix(8))")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/make_network_index.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [script.path, directory.path] + targets
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw WorkerTestError("make_network_index.py failed") }
        return directory
    }

    @Test func setupPyCannotReachTheWorkerWhileBenignPackagesInstall() async throws {
        let network = try TestNetwork()
        defer { network.stop() }
        let worker = try startWorker(network)
        defer { worker.stop() }
        let port = try #require(URLComponents(string: worker.url)?.port)
        let index = try makeIndex(targets: Self.hostURLs(port: port, network: network))
        defer { try? FileManager.default.removeItem(at: index) }
        try network.serve(index)

        try #require(try await worker.deploy("victim", ["f.py": Handlers.echo]).status == 201)
        let digest = try await worker.request(.GET, "/handlers/victim").json["digest"] as? String

        let attack = try await worker.deploy("attacker", ["f.py": Handlers.echo, "requirements.txt": "evilpkg\n"])
        #expect(attack.status == 422 && attack.errorCode == "unresolvable_requirements", "\(attack.text)")
        let output = attack.error["pip_output"] as? String ?? ""
        let line = try #require(output.split(separator: "\n").first { $0.contains("EVILPKG ATTEMPTS") }, "\(output)")
        let attempts = try #require(try JSONSerialization.jsonObject(
            with: Data(line[line.range(of: "{")!.lowerBound...].utf8)) as? [String: String])
        #expect(attempts.count == Self.hostURLs(port: port, network: network).count * 3, "\(attempts)")
        for (attempt, result) in attempts {
            #expect(result.hasPrefix("failed: "), "\(attempt) → \(result)")
        }

        let victim = try await worker.invoke("victim", "[7]")
        #expect(victim.status == 200 && victim.text == #"{"echo":[7]}"#, "victim still answers with its own code")
        #expect(try await worker.request(.GET, "/handlers/victim").json["digest"] as? String == digest)

        let good = try await worker.deploy("good", ["f.py": "import benign\ndef f(e):\n    return benign.VALUE\n",
                                                    "requirements.txt": "benign\n"])
        try #require(good.status == 201, "\(good.text)")
        #expect(try await worker.invoke("good").text == #""benign 1.0""#)
    }

    @Test func outboundHandlerReachesTheIndexButNoHostService() async throws {
        let network = try TestNetwork()
        defer { network.stop() }
        let loopback = try LoopbackServer()
        defer { loopback.stop() }
        let worker = try startWorker(network)
        defer { worker.stop() }
        let port = try #require(URLComponents(string: worker.url)?.port)
        let index = try makeIndex(targets: [])
        defer { try? FileManager.default.removeItem(at: index) }
        try network.serve(index)
        #expect(try firewallTables().contains { $0.hasPrefix("pipsqueak_") }, "the worker installed its firewall table")

        try #require(try await worker.deploy("out", ["f.py": Self.fetcher, "pipsqueak.yaml": "network: outbound\n"]).status == 201)
        try #require(try await worker.deploy("offline", ["f.py": Self.fetcher]).status == 201)
        let page = "\(network.baseURL)/simple/benign/"
        let forbidden = Self.hostURLs(port: port, network: network).map { $0 + "/handlers" }
            + ["http://127.0.0.1:\(loopback.port)/", "http://10.0.2.2:\(loopback.port)/", "http://169.254.169.254/latest/meta-data/"]
        let event = String(decoding: try JSONSerialization.data(withJSONObject: [page] + forbidden), as: UTF8.self)

        let reply = try await worker.invoke("out", event)
        try #require(reply.status == 200, "\(reply.text)")
        let results = try #require(reply.json as? [String: String])
        #expect(results[page] == "answered 200", "the index is reachable: \(results)")
        for url in forbidden {
            #expect(results[url]?.hasPrefix("failed: ") == true, "\(url) → \(results[url] ?? "nothing")")
        }
        let offline = try await worker.invoke("offline", event).json as? [String: String]
        #expect(offline?[page]?.hasPrefix("failed: ") == true, "a handler without a network reaches nothing: \(offline ?? [:])")

        worker.stop()
        #expect(try !firewallTables().contains { $0.hasSuffix(String(worker.cgroupParent.suffix(12))) },
                "the worker removed its firewall table")
    }

    @Test func hostNetworkNeedsTheOperatorsConsent() async throws {
        let manifest = ["f.py": Handlers.echo, "pipsqueak.yaml": "network: host\n"]
        let strict = try WorkerProcess()
        let refused = try await strict.deploy("hostnet", manifest)
        strict.stop()
        #expect(refused.status == 400 && refused.errorCode == "invalid_manifest", "\(refused.text)")
        #expect((refused.error["message"] as? String)?.contains("allow_host_network") == true)

        let permissive = try WorkerProcess(arguments: ["--allow-host-network"])
        defer { permissive.stop() }
        #expect(try await permissive.deploy("hostnet", manifest).status == 201)
        #expect(try await permissive.invoke("hostnet", "1").text == #"{"echo":1}"#)
    }

    private func firewallTables() throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/nft")
        process.arguments = ["list", "tables"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text.split(separator: "\n").compactMap { $0.split(separator: " ").last.map(String.init) }
    }
}
