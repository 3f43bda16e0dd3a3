import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import PipsqueakCore
import PipsqueakWorker
import Testing

/// The HTTP API through `app.test(.router)`, on a worker with its own temporary state directory.
@Suite(.serialized, .enabled(if: geteuid() == 0, "the worker creates cgroups; needs root (CI runs as root)"))
struct RouterTests {
    func withWorker(_ body: @escaping @Sendable (Worker, any TestClientProtocol) async throws -> Void) async throws {
        var config = WorkerConfig()
        config.stateDir = NSTemporaryDirectory() + "pipsqueak-router-\(UUID().uuidString.prefix(8))"
        config.sandboxHelper = buildDirectory().appendingPathComponent("pipsqueak-sandbox").path
        config.importCacheMB = 0
        let worker = try await Worker(config: config, logger: Logger(label: "test"))
        let app = Application(router: worker.router())
        let outcome: (any Error)?
        do {
            try await app.test(.router) { client in try await body(worker, client) }
            outcome = nil
        } catch {
            outcome = error
        }
        await worker.shutdown()
        try? FileManager.default.removeItem(atPath: config.stateDir)
        if let outcome { throw outcome }
    }

    func buildDirectory() -> URL {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent()
    }

    func archive(_ source: String) throws -> ByteBuffer {
        ByteBuffer(bytes: try HandlerArchive.gzipTar(files: [("f.py", Array(source.utf8))]))
    }

    @Test func deployThenRunFreshThenWarm() async throws {
        try await withWorker { _, client in
            try await client.execute(uri: "/handlers/echo", method: .put, body: try archive("def f(e):\n    return e\n")) { response in
                #expect(response.status == .created)
            }
            try await client.execute(uri: "/run/echo", method: .post, body: ByteBuffer(string: "[1]")) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "[1]")
                #expect(response.headers[HTTPField.Name("X-Pipsqueak-Start")!] == "fresh")
            }
            try await client.execute(uri: "/run/echo", method: .post, body: ByteBuffer(string: "[2]")) { response in
                #expect(response.headers[HTTPField.Name("X-Pipsqueak-Start")!] == "warm")
            }
        }
    }

    @Test func errorsAreJSON() async throws {
        try await withWorker { _, client in
            try await client.execute(uri: "/run/missing", method: .post, body: ByteBuffer(string: "{}")) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType] == "application/json")
                let body = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: [String: String]]
                #expect(body?["error"]?["code"] == "not_found")
            }
            try await client.execute(uri: "/handlers/bad!name", method: .put, body: try archive("x")) { response in
                #expect(response.status == .badRequest)
            }
            try await client.execute(uri: "/handlers/nothing", method: .delete) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test func statusReportsTiers() async throws {
        try await withWorker { worker, client in
            try await client.execute(uri: "/status", method: .get) { response in
                let body = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                let tiers = body?["tiers"] as? [String: Any]
                #expect(tiers?.keys.sorted() == ["handler_cache", "import_cache", "install_cache"])
                #expect(body?["cgroup_version"] as? String == worker.hierarchy.version.rawValue)
            }
        }
    }
}
