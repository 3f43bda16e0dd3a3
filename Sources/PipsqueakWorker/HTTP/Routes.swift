import Foundation
import HTTPTypes
import Hummingbird
import PipsqueakCache
import PipsqueakCore

extension HTTPField.Name {
    static let pipsqueakStart = Self("X-Pipsqueak-Start")!
    static let pipsqueakDuration = Self("X-Pipsqueak-Duration-Ms")!
}

extension Worker {
    /// The HTTP API. Routes only parse requests and shape responses; the work is in `Worker`.
    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.put("/handlers/:name") { request, context in
            let name = try HandlerName(try context.parameters.require("name"))
            let body = try await Self.collect(request, limit: self.config.maxUploadMB << 20, what: "handler archive")
            let record = try await self.deploy(name: name, archive: Array(body.readableBytesView), logger: context.logger)
            var response = try Self.json(["name": record.name, "digest": record.digest])
            response.status = .created
            return response
        }
        router.get("/handlers") { _, _ in try Self.json(self.registry.all()) }
        router.get("/handlers/:name") { _, context in
            let name = try HandlerName(try context.parameters.require("name"))
            guard let record = self.registry.record(named: name.value) else {
                throw PipsqueakError(.notFound, "no handler named \(name)")
            }
            return try Self.json(record)
        }
        router.delete("/handlers/:name") { _, context in
            try await self.delete(name: try HandlerName(try context.parameters.require("name")), logger: context.logger)
            return Response(status: .noContent)
        }
        router.post("/run/:name") { request, context in try await self.run(request, context) }
        router.get("/status") { _, _ in try Self.json(await self.status()) }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: .init(byteBuffer: ByteBuffer(bytes: self.metrics.exposition())))
        }
        router.get("/zygotes") { _, _ in try Self.json(await self.zygoteStatus()) }
        router.get("/instances") { _, _ in try Self.json(await self.instanceStatus()) }
        router.get("/healthz") { _, _ in "ok" }
        router.get("/installs") { _, _ in try Self.json(self.installProgress.all()) }
        router.get("/packages") { _, _ in try Self.json(await self.packageListing()) }
        router.post("/packages/gc") { _, context in
            let removed = await self.collectPackageGarbage(logger: context.logger)
            return try Self.json(["removed": removed.map(\.description)])
        }
        return router
    }

    /// `POST /run/{name}`: the event must be JSON (an empty body is `null`).
    private func run(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let name = try HandlerName(try context.parameters.require("name")).value
        var event = try await Self.collect(request, limit: config.maxEventKB << 10, what: "event")
        if event.readableBytes == 0 {
            event = ByteBuffer(string: "null")
        } else if (try? JSONSerialization.jsonObject(with: Data(event.readableBytesView), options: [.fragmentsAllowed])) == nil {
            throw PipsqueakError(.invalidJSON, "request body is not valid JSON")
        }
        let invocation = try await invoke(handler: name, event: event, requestID: context.id, logger: context.logger)
        switch invocation.outcome {
        case .result(let bytes):
            let headers: HTTPFields = [
                .contentType: "application/json",
                .pipsqueakStart: invocation.start.rawValue,
                .pipsqueakDuration: String(format: "%.3f", Double(invocation.nanoseconds) / 1e6),
            ]
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        case .raised(let failure):
            throw PipsqueakError(.handlerError, "handler \(name) raised \(failure.type): \(failure.message)",
                                 details: ["exception": failure.type, "traceback": failure.traceback])
        }
    }

    private static func collect(_ request: Request, limit: Int, what: String) async throws(PipsqueakError) -> ByteBuffer {
        do {
            return try await request.body.collect(upTo: limit)
        } catch {
            throw PipsqueakError(.payloadTooLarge, "\(what) is larger than \(limit >> 10) KiB")
        }
    }

    static func json(_ value: some Encodable) throws -> Response {
        let data = try HandlerRegistry.encoder.encode(value)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
