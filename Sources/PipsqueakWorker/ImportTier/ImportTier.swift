import Foundation
import Logging
import PipsqueakCache
import PipsqueakCore
import PipsqueakSandbox
import ServiceLifecycle
import Synchronization

extension Worker {
    /// Tier 2 for a cold start: the best admissible zygote forked into a sandbox prepared inside its user namespace.
    /// Nil when the tier cannot serve this start; the caller then starts a fresh interpreter, so a request never
    /// fails because a zygote did.
    func startFromZygote(_ record: HandlerRecord, _ request: SandboxRequest, logger: Logger) async -> Sandbox? {
        guard let importCache, request.network == .none else { return nil }
        let facts = await installCache.facts()
        let closure = Set(record.packages)
        guard let choice = await importCache.choose(closure: closure, facts: facts) else {
            await importCache.noteColdStart(closure: closure, servedBy: nil, facts: facts)
            return nil
        }
        let key = PreparedPool.Key(handler: record.name, revision: record.revision, zygote: ObjectIdentifier(choice.zygote))
        do throws(PipsqueakError) {
            let prepared: PreparedSandbox
            if let ready = await preparedPool.take(key) {
                prepared = ready
            } else {
                prepared = try await launcher.prepareSandbox(request, in: choice.zygote)
            }
            let sandbox = try await launcher.forkHandler(request, from: choice.zygote, into: prepared, logger: logger)
            await importCache.forked(choice.id)
            sandbox.onDestroy { await importCache.instanceEnded(choice.id) }
            await importCache.noteColdStart(closure: closure, servedBy: choice.id, facts: facts)
            prepareAhead(record, logger: logger)
            return sandbox
        } catch {
            logger.notice("import tier could not serve a cold start; starting fresh", metadata: ["handler": "\(record.name)",
                                                                                                  "zygote": "\(choice.id)", "error": "\(error)"])
            await importCache.forkFailed(choice.id)
            await importCache.noteColdStart(closure: closure, servedBy: nil, facts: facts)
            return nil
        }
    }

    /// Prepares a sandbox for the handler's next cold start inside its best zygote, off the request path.
    func prepareAhead(_ record: HandlerRecord, logger: Logger) {
        guard let importCache, (record.manifest.network ?? .none) == .none else { return }
        let request = sandboxRequest(for: record)
        Task {
            guard await self.preparedPool.beginPreparing() else { return }
            let facts = await self.installCache.facts()
            let installed = await record.packages.asyncAllSatisfy { await self.installCache.isInstalled($0) }
            guard installed, let choice = await importCache.choose(closure: Set(record.packages), facts: facts) else {
                await self.preparedPool.preparationFailed()
                return
            }
            let key = PreparedPool.Key(handler: record.name, revision: record.revision, zygote: ObjectIdentifier(choice.zygote))
            do throws(PipsqueakError) {
                let prepared = try await self.launcher.prepareSandbox(request, in: choice.zygote)
                await self.preparedPool.add(key, prepared)
            } catch {
                await self.preparedPool.preparationFailed()
                logger.debug("could not prepare a sandbox", metadata: ["handler": "\(record.name)", "error": "\(error)"])
            }
        }
    }

    /// A new zygote: prepare sandboxes in it for the handlers it now serves best.
    func zygoteCreated(_ id: String) async {
        guard let importCache else { return }
        let facts = await installCache.facts()
        for record in registry.all() where (record.manifest.network ?? .none) == .none {
            if await importCache.choose(closure: Set(record.packages), facts: facts)?.id == id { prepareAhead(record, logger: logger) }
        }
    }

    /// Creates the zygotes of `import_cache_tree`, resolving and installing their packages first.
    func buildStaticTree() async {
        guard let importCache else { return }
        for names in config.importCacheTree {
            do throws(PipsqueakError) {
                let closure = try await installCache.resolve(requirements: names)
                try await installCache.ensureInstalled(closure)
                let facts = await installCache.facts()
                await importCache.ensure(ImportCachePolicy.desiredSet(closure: Set(closure), importSeconds: facts.importSeconds), facts: facts)
            } catch {
                logger.error("cannot build a zygote of import_cache_tree", metadata: ["packages": "\(names)", "error": "\(error)"])
            }
        }
    }
}

extension Sequence {
    func asyncAllSatisfy(_ predicate: (Element) async -> Bool) async -> Bool {
        for element in self where await !predicate(element) { return false }
        return true
    }
}

/// Relays the import cache's "zygote created" events to the worker, which exists only after the cache does.
final class ZygoteEvents: Sendable {
    private let handler = Mutex<(@Sendable (String) -> Void)?>(nil)
    func set(_ body: @escaping @Sendable (String) -> Void) { handler.withLock { $0 = body } }
    func created(_ id: String) { handler.withLock { $0 }?(id) }
}

/// Starts the root zygote and the static tree, then keeps the tree within its budget until shutdown.
struct ImportCacheService: Service {
    let worker: Worker

    func run() async throws {
        guard let importCache = worker.importCache else {
            // A service group treats a service that returns as failed: idle until shutdown.
            try? await gracefulShutdown()
            return
        }
        do {
            try await importCache.start()
            await worker.buildStaticTree()
        } catch {
            worker.logger.error("the import cache could not start its root zygote; cold starts use fresh interpreters",
                                metadata: ["error": "\(error)"])
        }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            await importCache.maintain(facts: await worker.installCache.facts())
            let stats = await importCache.snapshot()
            worker.metrics.recordImportCache(hits: stats.hits, misses: stats.misses, forks: stats.forks, evictions: stats.evictions)
            let tree = await importCache.tree().filter(\.alive)
            worker.metrics.zygotes.record(tree.count)
            worker.metrics.zygoteMemoryBytes.record(tree.reduce(Int64(0)) { $0 + $1.chargedBytes })
        }
    }
}
