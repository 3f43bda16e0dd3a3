import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
@testable import PipBench

/// Runs in-process servers on free ports for the duration of a test body.
enum ServerHarness {
    /// Runs the service `make` builds (it calls back with its bound port) for `body`, then shuts it down
    /// gracefully: requests still being answered finish first (cancelling a server mid-response traps in NIO).
    static func withService<T: Sendable>(_ make: (@escaping @Sendable (Int) -> Void) -> any Service,
                                         _ body: (Int) async throws -> T) async throws -> T {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let group = ServiceGroup(configuration: .init(services: [make { continuation.yield($0) }], logger: Logger(label: "test-server")))
        let server = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            try await server.value
            throw PipBenchError.io("server did not start")
        }
        let result = await Result(catching: { try await body(port) })
        await group.triggerGracefulShutdown()
        try await server.value
        return try result.get()
    }

    /// A `MirrorServer` of `root`.
    static func withServer<T: Sendable>(root: URL, _ body: (Int) async throws -> T) async throws -> T {
        try await withService({ MirrorServer(root: root, port: 0).application(onReady: $0) }, body)
    }

    /// A fake worker (or any routes) on 127.0.0.1.
    static func withRouter<T: Sendable>(_ router: Router<BasicRequestContext>, _ body: (Int) async throws -> T) async throws -> T {
        try await withService({ ready in
            Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                        onServerRunning: { ready($0.localAddress?.port ?? 0) })
        }, body)
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
