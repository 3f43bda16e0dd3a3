import Foundation
import Logging
import NIOCore
import PipsqueakCache
import PipsqueakCore
import PipsqueakSandbox

/// What one invocation produced, and how its instance was obtained.
public struct Invocation: Sendable {
    public var start: StartKind
    public var outcome: InvocationOutcome
    public var nanoseconds: Int64
}

extension Worker {
    /// Runs one event through a handler: the one path from a request to a runtime.
    ///
    /// The handler's record is checked out (its code stays on disk until the invocation ends, whatever deploys
    /// happen meanwhile), an instance comes from the first tier that has one (`InstanceSources`), the event goes
    /// through it, and the instance goes back to the handler cache.
    public func invoke(handler name: String, event: ByteBuffer, requestID: String, logger: Logger) async throws(PipsqueakError) -> Invocation {
        let started = ContinuousClock.now
        guard let record = registry.checkout(name) else { throw PipsqueakError(.notFound, "no handler named \(name)") }
        defer { registry.checkin(record) }
        try checkNetwork(record.manifest.network ?? .none, handler: name)
        let timeout = record.manifest.timeoutSeconds ?? config.defaultTimeoutS
        let lease: HandlerCache<Sandbox>.Lease
        do {
            lease = try await cache.acquire(handler: name, digest: record.revision,
                                            maxInstances: record.manifest.maxInstances ?? config.defaultMaxInstances) {
                () async throws(PipsqueakError) -> Sandbox in
                try await self.startInstance(record, logger: logger)
            }
        } catch {
            metrics.invocation(start: "none", outcome: error.code.name, nanoseconds: (ContinuousClock.now - started).nanoseconds)
            throw error
        }
        let outcome: InvocationOutcome
        do {
            outcome = try await lease.instance.invoke(event: event, requestID: requestID, timeoutSeconds: timeout)
        } catch {
            await cache.release(lease, healthy: false)
            metrics.invocation(start: lease.start.rawValue, outcome: error.code.name, nanoseconds: (ContinuousClock.now - started).nanoseconds)
            logger.notice("invocation failed", metadata: ["handler": "\(name)", "error": "\(error)"])
            throw error
        }
        await cache.release(lease, healthy: true)
        let nanoseconds = (ContinuousClock.now - started).nanoseconds
        let result: String = if case .result = outcome { "ok" } else { "handler_error" }
        metrics.invocation(start: lease.start.rawValue, outcome: result, nanoseconds: nanoseconds)
        return Invocation(start: lease.start, outcome: outcome, nanoseconds: nanoseconds)
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
}
