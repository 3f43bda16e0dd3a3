import Foundation
import PipsqueakCore

public enum CgroupVersion: String, Sendable, Codable { case v1, v2 }

/// Resource limits of one sandbox.
public struct CgroupLimits: Equatable, Sendable {
    public var memoryBytes: Int64
    public var pidsMax: Int
    /// CPU bandwidth in cores (1.0 is one full core).
    public var cpuCores: Double
    public static let cpuPeriodMicroseconds = 100_000

    public init(memoryBytes: Int64, pidsMax: Int, cpuCores: Double) {
        self.memoryBytes = memoryBytes
        self.pidsMax = pidsMax
        self.cpuCores = cpuCores
    }

    var cpuQuotaMicroseconds: Int { max(1000, Int(cpuCores * Double(Self.cpuPeriodMicroseconds))) }
}

/// One sandbox's cgroup: a directory per v1 controller hierarchy, or one v2 directory.
public struct Cgroup: Sendable, Equatable {
    public static let v1Controllers = ["memory", "pids", "cpu", "freezer"]

    public let version: CgroupVersion
    public let mountPoint: String
    /// Path below each hierarchy, such as `pipsqueak/3f2a/hello-1`.
    public let path: String

    public init(version: CgroupVersion, mountPoint: String, path: String) {
        self.version = version
        self.mountPoint = mountPoint
        self.path = path
    }

    /// Every directory this cgroup consists of.
    public var directories: [String] {
        switch version {
        case .v1: Self.v1Controllers.map { "\(mountPoint)/\($0)/\(path)" }
        case .v2: ["\(mountPoint)/\(path)"]
        }
    }

    /// The files a process writes its pid into to join this cgroup.
    public var procFiles: [String] { directories.map { $0 + "/cgroup.procs" } }

    private func file(_ controller: String, _ name: String) -> String {
        switch version {
        case .v1: "\(mountPoint)/\(controller)/\(path)/\(name)"
        case .v2: "\(mountPoint)/\(path)/\(name)"
        }
    }

    /// Creates the directories and applies the limits.
    public func create(limits: CgroupLimits) throws(PipsqueakError) {
        for directory in directories { try CgroupFile.makeDirectory(directory) }
        switch version {
        case .v1:
            try CgroupFile.write(String(limits.memoryBytes), to: file("memory", "memory.limit_in_bytes"))
            try? CgroupFile.write("0", to: file("memory", "memory.swappiness"))
            try CgroupFile.write(String(limits.pidsMax), to: file("pids", "pids.max"))
            try CgroupFile.write(String(CgroupLimits.cpuPeriodMicroseconds), to: file("cpu", "cpu.cfs_period_us"))
            try CgroupFile.write(String(limits.cpuQuotaMicroseconds), to: file("cpu", "cpu.cfs_quota_us"))
        case .v2:
            try CgroupFile.write(String(limits.memoryBytes), to: file("memory", "memory.max"))
            try? CgroupFile.write("0", to: file("memory", "memory.swap.max"))
            try CgroupFile.write(String(limits.pidsMax), to: file("pids", "pids.max"))
            try CgroupFile.write("\(limits.cpuQuotaMicroseconds) \(CgroupLimits.cpuPeriodMicroseconds)", to: file("cpu", "cpu.max"))
        }
    }

    /// Pids of every process in the cgroup.
    public func processes() -> [pid_t] {
        let text = CgroupFile.read(file("freezer", "cgroup.procs")) ?? ""
        return text.split(separator: "\n").compactMap { pid_t($0) }
    }

    /// Memory charged to the cgroup, in bytes.
    public func memoryUsage() -> Int64? {
        switch version {
        case .v1: CgroupFile.readInteger(file("memory", "memory.usage_in_bytes"))
        case .v2: CgroupFile.readInteger(file("memory", "memory.current"))
        }
    }

    /// How often the kernel's OOM killer killed a process in this cgroup.
    public func oomKills() -> Int64 {
        switch version {
        case .v1: CgroupFile.keyedValue("oom_kill", in: file("memory", "memory.oom_control")) ?? 0
        case .v2: CgroupFile.keyedValue("oom_kill", in: file("memory", "memory.events")) ?? 0
        }
    }

    /// Freezes every process and waits until the kernel reports the cgroup frozen.
    public func freeze() throws(PipsqueakError) {
        switch version {
        case .v1:
            try CgroupFile.write("FROZEN", to: file("freezer", "freezer.state"))
            try waitUntil { CgroupFile.read(file("freezer", "freezer.state"))?.hasPrefix("FROZEN") == true }
        case .v2:
            try CgroupFile.write("1", to: file("freezer", "cgroup.freeze"))
            try waitUntil { CgroupFile.keyedValue("frozen", in: file("freezer", "cgroup.events")) == 1 }
        }
    }

    public func thaw() throws(PipsqueakError) {
        switch version {
        case .v1: try CgroupFile.write("THAWED", to: file("freezer", "freezer.state"))
        case .v2: try CgroupFile.write("0", to: file("freezer", "cgroup.freeze"))
        }
    }

    /// Kills every process, frozen or not, and waits until the cgroup is empty.
    public func killAll() throws(PipsqueakError) {
        if version == .v2, (try? CgroupFile.write("1", to: file("freezer", "cgroup.kill"))) != nil {
            try waitUntil { processes().isEmpty }
            return
        }
        // Freeze first so nothing forks between listing and killing, then thaw so the kills take effect.
        try? freeze()
        for pid in processes() { kill(pid, SIGKILL) }
        try thaw()
        try waitUntil { processes().isEmpty }
    }

    /// Removes the (empty) cgroup directories.
    public func remove() throws(PipsqueakError) {
        for directory in directories {
            var attempts = 0
            while rmdir(directory) != 0 && errno != ENOENT {
                attempts += 1
                if errno != EBUSY || attempts > 200 {
                    throw PipsqueakError(.sandboxFailed, "cgroup: rmdir \(directory): \(String(cString: strerror(errno)))")
                }
                usleep(5_000)
            }
        }
    }

    private func waitUntil(timeoutSeconds: Double = 5, _ condition: () -> Bool) throws(PipsqueakError) {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        var pause: UInt32 = 20
        while !condition() {
            if Date() > deadline { throw PipsqueakError(.sandboxFailed, "cgroup \(path): timed out waiting for the kernel") }
            usleep(pause)
            pause = min(pause * 2, 5_000)
        }
    }
}
