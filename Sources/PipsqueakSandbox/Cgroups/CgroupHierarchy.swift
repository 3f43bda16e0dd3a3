import Foundation
import PipsqueakCore
import PSShim

/// Where a worker's cgroups live: `<mount>/[controller/]pipsqueak/<worker-id>/<sandbox>`.
public struct CgroupHierarchy: Sendable {
    public static let cgroup2SuperMagic: Int = 0x6367_7270

    public let version: CgroupVersion
    public let mountPoint: String
    /// The worker's own parent cgroup path, such as `pipsqueak/3f2a9c`.
    public let parent: String

    public init(version: CgroupVersion, mountPoint: String = "/sys/fs/cgroup", parent: String) {
        self.version = version
        self.mountPoint = mountPoint
        self.parent = parent
    }

    /// Detects the host's layout: a cgroup2 file system at the mount point means v2, otherwise v1.
    public static func detectVersion(mountPoint: String = "/sys/fs/cgroup") -> CgroupVersion {
        ps_statfs_type(mountPoint) == cgroup2SuperMagic ? .v2 : .v1
    }

    public func cgroup(named name: String) -> Cgroup {
        Cgroup(version: version, mountPoint: mountPoint, path: "\(parent)/\(name)")
    }

    /// Creates the parent cgroups and, on v2, enables the controllers sandboxes need.
    public func prepare() throws(PipsqueakError) {
        let components = parent.split(separator: "/").map(String.init)
        switch version {
        case .v1:
            for controller in Cgroup.v1Controllers {
                let base = "\(mountPoint)/\(controller)"
                guard FileManager.default.fileExists(atPath: base) else {
                    throw PipsqueakError(.sandboxFailed, "cgroup v1 controller '\(controller)' is not mounted at \(base)")
                }
                var current = base
                for component in components {
                    current += "/" + component
                    try CgroupFile.makeDirectory(current)
                }
            }
        case .v2:
            var current = mountPoint
            try enableControllers(in: current)
            for component in components {
                current += "/" + component
                try CgroupFile.makeDirectory(current)
                try enableControllers(in: current)
            }
        }
    }

    private func enableControllers(in directory: String) throws(PipsqueakError) {
        let available = (CgroupFile.read(directory + "/cgroup.controllers") ?? "").split(separator: " ")
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        for controller in ["memory", "pids", "cpu"] {
            guard available.contains(controller) else {
                throw PipsqueakError(.sandboxFailed, "cgroup v2 controller '\(controller)' is not available in \(directory)")
            }
        }
        try CgroupFile.write("+memory +pids +cpu", to: directory + "/cgroup.subtree_control")
    }

    /// Removes the worker's parent cgroups (and `pipsqueak` itself once no other worker uses it).
    public func removeParent() {
        let components = parent.split(separator: "/").map(String.init)
        let bases = version == .v1 ? Cgroup.v1Controllers.map { "\(mountPoint)/\($0)" } : [mountPoint]
        for base in bases {
            for depth in stride(from: components.count, to: 0, by: -1) {
                rmdir(base + "/" + components.prefix(depth).joined(separator: "/"))
            }
        }
    }

    /// Names of sandbox cgroups under this worker's parent, e.g. left behind by a crashed worker.
    public func existingSandboxes() -> [String] {
        let base = version == .v1 ? "\(mountPoint)/freezer/\(parent)" : "\(mountPoint)/\(parent)"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []
        return names.filter { name in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: "\(base)/\(name)", isDirectory: &isDirectory) && isDirectory.boolValue
        }.sorted()
    }

    /// Kills and removes every sandbox cgroup under the parent. Returns how many it removed.
    @discardableResult
    public func removeAll() -> Int {
        var removed = 0
        var names = Set(existingSandboxes())
        if version == .v1 {
            for controller in Cgroup.v1Controllers {
                let base = "\(mountPoint)/\(controller)/\(parent)"
                names.formUnion(((try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []).filter {
                    !$0.contains(".") && FileManager.default.fileExists(atPath: "\(base)/\($0)/cgroup.procs")
                })
            }
        }
        for name in names.sorted() {
            let group = cgroup(named: name)
            try? group.killAll()
            if (try? group.remove()) != nil { removed += 1 }
        }
        return removed
    }
}
