import Foundation
import Logging
import PipsqueakCache
import PipsqueakCore
import PipsqueakSandbox

extension Worker {
    /// Stores an uploaded handler: validates the archive, resolves and installs its requirements, then commits
    /// the record atomically. Returns the record and whether the deployed code or lock changed.
    public func deploy(name: HandlerName, archive: [UInt8], logger: Logger) async throws(PipsqueakError) -> HandlerRecord {
        let registry = self.registry
        let prepared: HandlerRegistry.PreparedDeploy
        do {
            // Gunzip and parse (up to 256 MiB) on a blocking-work thread.
            prepared = try await BlockingWork.run { () -> Result<HandlerRegistry.PreparedDeploy, PipsqueakError> in
                Result { () throws(PipsqueakError) in try registry.prepare(name: name, archive: archive) }
            }.get()
        }
        try checkNetwork(prepared.manifest.network ?? .none, handler: name.value)
        var packages: [PackageRef] = []
        if !prepared.requirements.isEmpty {
            installProgress.set(name.value, "resolving \(prepared.requirements.count) requirement(s)")
            defer { installProgress.clear(name.value) }
            packages = try await installCache.resolve(requirements: prepared.requirements)
            logger.info("resolved requirements", metadata: ["handler": "\(name)", "closure": "\(packages.map(\.description))"])
            // Reserved until the record is committed: garbage collection and the disk budget cannot remove what
            // this deploy installed before a record refers to it.
            await installCache.reserve(packages)
            let progress = installProgress
            do {
                try await installCache.ensureInstalled(packages) { phase in progress.set(name.value, phase) }
            } catch {
                await installCache.release(packages)
                throw error
            }
        }
        let locked = packages
        let committed = await BlockingWork.run { () -> Result<(record: HandlerRecord, changed: Bool), PipsqueakError> in
            Result { () throws(PipsqueakError) in try registry.commit(prepared, packages: locked) }
        }
        await installCache.release(packages)
        let (record, changed) = try committed.get()
        if changed {
            await cache.invalidate(handler: name.value, currentDigest: record.revision)
            await preparedPool.drop { $0.handler == name.value && $0.revision != record.revision }
        }
        prepareAhead(record, logger: logger)
        metrics.deploys.increment()
        logger.info("deployed handler", metadata: ["handler": "\(name)", "digest": "\(record.digest.prefix(12))"])
        return record
    }

    /// Deletes a handler; its instances go when their requests end.
    public func delete(name: HandlerName, logger: Logger) async throws(PipsqueakError) {
        try registry.delete(name: name.value)
        await cache.invalidate(handler: name.value)
        await preparedPool.drop { $0.handler == name.value }
        logger.info("deleted handler", metadata: ["handler": "\(name)"])
    }

    /// Removes distributions no deployed handler, live instance or deploy in progress needs.
    public func collectPackageGarbage(logger: Logger) async -> [PackageRef] {
        let keep = Set(registry.all().flatMap(\.packages))
        let removed = await installCache.collectGarbage(keep: keep, inUse: await packagesInUse())
        logger.info("package garbage collection", metadata: ["removed": "\(removed.map(\.description))"])
        return removed
    }

    /// `GET /packages`: every installed distribution, its costs, and the handlers that use it.
    func packageListing() async -> [PackageListing] {
        let users = registry.all().reduce(into: [PackageRef: [String]]()) { map, record in
            for ref in record.packages { map[ref, default: []].append(record.name) }
        }
        return await installCache.list().map { PackageListing(package: $0, handlers: users[$0.ref] ?? []) }
    }
}
