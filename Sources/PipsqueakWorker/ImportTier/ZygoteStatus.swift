import Foundation
import PipsqueakCache
import PipsqueakCore
import PipsqueakSandbox

/// One zygote in `GET /zygotes` and `/status`.
public struct ZygoteStatus: Codable, Sendable {
    public struct Memory: Codable, Sendable {
        /// Bytes charged to the zygote's cgroup: the pages it touched first, shared with its children or not.
        public var charged: Int64
        public var rss: Int64
        public var pss: Int64
        /// Pages only this interpreter maps: what evicting it alone frees.
        public var `private`: Int64
        /// Pages it shares with its parent, its children and the instances forked from it.
        public var shared: Int64
    }

    public var id: String
    public var parent: String?
    public var children: [String]
    public var packages: [String]
    /// The interpreter's host pid.
    public var pid: Int32
    public var alive: Bool
    public var pinned: Bool
    /// Instances forked from it, ever.
    public var hits: Int
    /// Instances forked from it that are still alive.
    public var instances: Int
    public var ageSeconds: Double
    public var importSeconds: Double
    public var memory: Memory

    enum CodingKeys: String, CodingKey {
        case id, parent, children, packages, pid, alive, pinned, hits, instances, memory
        case ageSeconds = "age_s"
        case importSeconds = "import_s"
    }
}

extension Worker {
    /// The zygote tree, parents before children.
    func zygoteStatus() async -> [ZygoteStatus] {
        guard let importCache else { return [] }
        let nodes = await importCache.tree()
        let now = ContinuousClock.now
        return nodes.map { node in
            let memory = node.zygote.memory() ?? ProcessMemory()
            return ZygoteStatus(
                id: node.id, parent: node.parent, children: nodes.filter { $0.parent == node.id }.map(\.id).sorted(),
                packages: node.packages.map(\.description), pid: node.zygote.hostPID, alive: node.alive, pinned: node.pinned,
                hits: node.hits, instances: node.instances, ageSeconds: (now - node.createdAt).inSeconds,
                importSeconds: node.zygote.importSeconds,
                memory: .init(charged: node.chargedBytes, rss: memory.rss, pss: memory.pss, private: memory.privateBytes, shared: memory.sharedBytes))
        }.sorted { ($0.parent == nil ? 0 : 1, $0.id) < ($1.parent == nil ? 0 : 1, $1.id) }
    }
}
