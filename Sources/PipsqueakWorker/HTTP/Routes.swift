import Foundation
import HTTPTypes
import Hummingbird
import PipsqueakCache
import PipsqueakCore
import PipsqueakSandbox

extension HTTPField.Name {
    static let pipsqueakStart = Self("X-Pipsqueak-Start")!
    static let pipsqueakDuration = Self("X-Pipsqueak-Duration-Ms")!
}

extension Worker {
    /// The HTTP API: handlers, invocations, status and metrics.
    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.put("/handlers/:name") { request, context in try await self.deploy(request, context) }
        router.get("/handlers") { _, _ in try Self.json(self.registry.all()) }
        router.get("/handlers/:name") { _, context in
            let name = try context.parameters.require("name")
            guard let record = self.registry.record(named: try HandlerName(name).value) else {
                throw PipsqueakError(.notFound, "no handler named \(name)")
            }
            return try Self.json(record)
        }
        router.delete("/handlers/:name") { _, context in
            let name = try HandlerName(try context.parameters.require("name"))
            try self.registry.delete(name: name.value)
            await self.cache.invalidate(handler: name.value)
            context.logger.info("deleted handler", metadata: ["handler": "\(name)"])
            return Response(status: .noContent)
        }
        router.post("/run/:name") { request, context in try await self.run(request, context) }
        router.get("/status") { _, _ in try Self.json(await self.status()) }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: .init(byteBuffer: ByteBuffer(bytes: self.metrics.exposition())))
        }
        router.get("/healthz") { _, _ in "ok" }
        router.get("/installs") { _, _ in try Self.json(self.installProgress.all()) }
        router.get("/packages") { _, _ in try Self.json(await self.packageListing()) }
        router.post("/packages/gc") { _, context in
            let keep = Set(self.registry.all().flatMap(\.packages))
            let removed = await self.installCache.collectGarbage(keep: keep, inUse: await self.packagesInUse())
            context.logger.info("package garbage collection", metadata: ["removed": "\(removed.map(\.description))"])
            return try Self.json(["removed": removed.map(\.description)])
        }
        return router
    }

    private func deploy(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let name = try HandlerName(try context.parameters.require("name"))
        let body = try await collect(request, limit: config.maxUploadMB << 20, what: "handler archive")
        let prepared = try registry.prepare(name: name, archive: Array(body.readableBytesView))
        try checkNetwork(prepared.manifest.network ?? .none, handler: name.value)
        var packages: [PackageRef] = []
        if !prepared.requirements.isEmpty {
            installProgress.set(name.value, "resolving \(prepared.requirements.count) requirement(s)")
            defer { installProgress.clear(name.value) }
            packages = try await installCache.resolve(requirements: prepared.requirements)
            context.logger.info("resolved requirements", metadata: ["handler": "\(name)", "closure": "\(packages.map(\.description))"])
            let progress = installProgress
            try await installCache.ensureInstalled(packages) { phase in progress.set(name.value, phase) }
        }
        let (record, changed) = try registry.commit(prepared, packages: packages)
        if changed { await cache.invalidate(handler: name.value) }
        metrics.deploys.increment()
        context.logger.info("deployed handler", metadata: ["handler": "\(name)", "digest": "\(record.digest.prefix(12))"])
        var response = try Self.json(["name": record.name, "digest": record.digest])
        response.status = .created
        return response
    }

    private func run(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let started = ContinuousClock.now
        let name = try HandlerName(try context.parameters.require("name")).value
        guard let record = registry.record(named: name) else { throw PipsqueakError(.notFound, "no handler named \(name)") }
        try checkNetwork(record.manifest.network ?? .none, handler: name)
        var event = try await collect(request, limit: config.maxEventKB << 10, what: "event")
        if event.readableBytes == 0 {
            event = ByteBuffer(string: "null")
        } else if (try? JSONSerialization.jsonObject(with: Data(event.readableBytesView), options: [.fragmentsAllowed])) == nil {
            throw PipsqueakError(.invalidJSON, "request body is not valid JSON")
        }
        let timeout = record.manifest.timeoutSeconds ?? config.defaultTimeoutS
        let installedFirst = Flag()
        let lease = try await cache.acquire(
            handler: name, digest: record.digest, maxInstances: record.manifest.maxInstances ?? config.defaultMaxInstances
        ) { () async throws(PipsqueakError) -> Sandbox in
            if !record.packages.isEmpty, try await self.installCache.ensureInstalled(record.packages) > 0 { installedFirst.set() }
            return try await self.launcher.launch(self.sandboxRequest(for: record), logger: context.logger)
        }
        let start = lease.start == .fresh && installedFirst.isSet ? StartKind.install : lease.start
        let outcome: InvocationOutcome
        do {
            outcome = try await lease.instance.invoke(event: event, requestID: context.id, timeoutSeconds: timeout)
        } catch {
            await cache.release(lease, healthy: false)
            metrics.invocation(start: start.rawValue, outcome: error.code.name, nanoseconds: elapsed(since: started))
            context.logger.notice("invocation failed", metadata: ["handler": "\(name)", "error": "\(error)"])
            throw error
        }
        await cache.release(lease, healthy: true)
        let nanoseconds = elapsed(since: started)
        let headers: HTTPFields = [
            .contentType: "application/json",
            .pipsqueakStart: start.rawValue,
            .pipsqueakDuration: String(format: "%.3f", Double(nanoseconds) / 1e6),
        ]
        switch outcome {
        case .result(let bytes):
            metrics.invocation(start: start.rawValue, outcome: "ok", nanoseconds: nanoseconds)
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        case .raised(let failure):
            metrics.invocation(start: start.rawValue, outcome: "handler_error", nanoseconds: nanoseconds)
            throw PipsqueakError(.handlerError, "handler \(name) raised \(failure.type): \(failure.message)",
                                 details: ["exception": failure.type, "traceback": failure.traceback])
        }
    }

    /// Refuses a network the worker does not allow (`host`) or cannot provide (`outbound` without slirp4netns).
    func checkNetwork(_ network: HandlerManifest.Network, handler: String) throws(PipsqueakError) {
        switch network {
        case .host where !config.allowHostNetwork:
            throw PipsqueakError(.invalidManifest, """
                handler \(handler) asks for network: host, the host's own network namespace, from which it could reach every \
                service on the host (this worker's API included); this worker does not allow it (allow_host_network). \
                Use network: outbound for internet access.
                """)
        case .outbound:
            if case .unavailable(let reason) = launcher.configuration.outbound {
                throw PipsqueakError(.invalidManifest, "handler \(handler) asks for network: outbound, which this worker cannot provide: \(reason)")
            }
        default:
            break
        }
    }

    func sandboxRequest(for record: HandlerRecord) -> SandboxRequest {
        SandboxRequest(
            handler: record.name, codeDirectory: registry.codeDirectory(digest: record.digest).path,
            entry: record.manifest.entry, memoryMB: record.manifest.memoryMB ?? config.defaultMemoryMB,
            startTimeoutSeconds: max(record.manifest.timeoutSeconds ?? config.defaultTimeoutS, 10),
            network: record.manifest.network ?? .none, environment: record.manifest.environment,
            extraBinds: record.packages.map { (installCache.siteDirectory(of: $0).path, SandboxCommandPaths.path(for: $0)) },
            pythonPaths: record.packages.map { SandboxCommandPaths.path(for: $0) })
    }

    /// `GET /packages`: every installed distribution, its costs, and the handlers that use it.
    func packageListing() async -> [PackageListing] {
        let users = registry.all().reduce(into: [PackageRef: [String]]()) { map, record in
            for ref in record.packages { map[ref, default: []].append(record.name) }
        }
        return await installCache.list().map { PackageListing(package: $0, handlers: users[$0.ref] ?? []) }
    }

    private func collect(_ request: Request, limit: Int, what: String) async throws(PipsqueakError) -> ByteBuffer {
        do {
            return try await request.body.collect(upTo: limit)
        } catch {
            throw PipsqueakError(.payloadTooLarge, "\(what) is larger than \(limit >> 10) KiB")
        }
    }

    private func elapsed(since start: ContinuousClock.Instant) -> Int64 { (ContinuousClock.now - start).nanoseconds }

    static func json(_ value: some Encodable) throws -> Response {
        let data = try HandlerRegistry.encoder.encode(value)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
