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
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            server.cancel()
            throw PipBenchError.io("server did not start")
        }
        let result = await Result(catching: { try await body(port) })
        // Let clients' connections close first: cancelling a server with an open connection traps in NIO.
        try? await Task.sleep(for: .milliseconds(300))
        server.cancel()
        return try result.get()
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
        request.headers.add(name: "Connection", value: "close")
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 64 << 20)
        var fields: [String: String] = [:]
        for header in response.headers { fields[header.name.lowercased()] = header.value }
        return Reply(status: Int(response.status.code), headers: fields, body: Array(body.readableBytesView))
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
