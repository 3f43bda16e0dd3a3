import Foundation
import PipsqueakCore
import PipsqueakSandbox

/// One live instance in `GET /instances`.
public struct InstanceStatus: Codable, Sendable {
    public struct Memory: Codable, Sendable {
        /// Charged to the instance's cgroup (what the handler cache's budget counts).
        public var cgroup: Int64
        public var rss: Int64
        public var pss: Int64
        /// Pages only the runtime maps: for an instance forked from a zygote, what it costs beyond the zygote.
        public var `private`: Int64
        public var shared: Int64
    }

    public var id: String
    public var handler: String
    public var start: StartKind
    /// `busy`, `idle` or `paused`.
    public var state: String
    public var pid: Int32?
    public var memory: Memory
}

extension Worker {
    func instanceStatus() async -> [InstanceStatus] {
        await cache.entries().map { entry in
            let pid = entry.instance.runtimeHostPID()
            let memory = pid.flatMap { ProcessMemory.read(pid: $0) } ?? ProcessMemory()
            return InstanceStatus(
                id: entry.instance.id, handler: entry.handler, start: entry.instance.origin,
                state: entry.busy ? "busy" : entry.frozen ? "paused" : "idle", pid: pid,
                memory: .init(cgroup: entry.instance.memoryUsage(), rss: memory.rss, pss: memory.pss, private: memory.privateBytes,
                              shared: memory.sharedBytes))
        }.sorted { ($0.handler, $0.id) < ($1.handler, $1.id) }
    }
}
