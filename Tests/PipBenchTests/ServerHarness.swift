import AsyncHTTPClient
import Foundation
import NIOCore
@testable import PipBench

/// Runs a `MirrorServer` on a free port for the duration of a test body.
enum ServerHarness {
    static func withServer<T: Sendable>(root: URL, _ body: @Sendable (Int) async throws -> T) async throws -> T {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let server = Task {
            try await MirrorServer(root: root, port: 0).run { port in continuation.yield(port) }
        }
        defer { server.cancel() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw PipBenchError.io("server did not start") }
        return try await body(port)
    }

    struct Reply: Sendable {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
    }

    static func get(_ url: String, method: String = "GET", headers: [(String, String)] = []) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = .init(rawValue: method)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 64 << 20)
        var fields: [String: String] = [:]
        for header in response.headers { fields[header.name.lowercased()] = header.value }
        return Reply(status: Int(response.status.code), headers: fields, body: Array(body.readableBytesView))
    }
}
