import Foundation
import PipsqueakSandbox
import Testing

/// The freezer and kill paths on the kernel's real cgroupfs: v1 controllers and, where mounted, the v2 hierarchy
/// (on hybrid hosts at /sys/fs/cgroup/unified).
@Suite(.serialized, .enabled(if: geteuid() == 0, "writes to /sys/fs/cgroup; needs root (CI runs as root)"))
struct RealCgroupTests {
    static var v2MountPoint: String? {
        ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"].first {
            FileManager.default.fileExists(atPath: $0 + "/cgroup.controllers") && CgroupHierarchy.detectVersion(mountPoint: $0) == .v2
        }
    }

    private func startSleeper() throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sleep")
        process.arguments = ["60"]
        try process.run()
        return process
    }

    private func state(of pid: Int32) -> String {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        return status.split(separator: "\n").first { $0.hasPrefix("State:") }.map(String.init) ?? ""
    }

    @Test(.enabled(if: v2MountPoint != nil, "no cgroup2 hierarchy mounted"))
    func v2FreezeThawAndKill() throws {
        let mount = try #require(Self.v2MountPoint)
        let cgroup = Cgroup(version: .v2, mountPoint: mount, path: "pipsqueak-test-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(atPath: cgroup.directories[0], withIntermediateDirectories: false)
        defer { try? cgroup.remove() }
        let sleeper = try startSleeper()
        try "\(sleeper.processIdentifier)".write(toFile: cgroup.procFiles[0], atomically: false, encoding: .utf8)
        #expect(cgroup.processes() == [sleeper.processIdentifier])
        try cgroup.freeze()
        let events = try String(contentsOfFile: cgroup.directories[0] + "/cgroup.events", encoding: .utf8)
        #expect(events.contains("frozen 1"))
        try cgroup.thaw()
        try cgroup.killAll()
        sleeper.waitUntilExit()
        #expect(sleeper.terminationReason == .uncaughtSignal)
        #expect(cgroup.processes().isEmpty)
    }

    @Test(.enabled(if: CgroupHierarchy.detectVersion() == .v1, "host is not cgroup v1"))
    func v1FreezeThawAndKillWhileFrozen() throws {
        let hierarchy = CgroupHierarchy(version: .v1, parent: "pipsqueak-test-\(UUID().uuidString.prefix(8))")
        try hierarchy.prepare()
        defer { hierarchy.removeAll(); hierarchy.removeParent() }
        let cgroup = hierarchy.cgroup(named: "c")
        try cgroup.create(limits: .init(memoryBytes: 64 << 20, pidsMax: 8, cpuCores: 0.5))
        let sleeper = try startSleeper()
        for file in cgroup.procFiles { try "\(sleeper.processIdentifier)".write(toFile: file, atomically: false, encoding: .utf8) }
        try cgroup.freeze()
        #expect(try String(contentsOfFile: cgroup.directories[3] + "/freezer.state", encoding: .utf8).hasPrefix("FROZEN"))
        #expect((cgroup.memoryUsage() ?? -1) >= 0)
        try cgroup.killAll()
        sleeper.waitUntilExit()
        #expect(sleeper.terminationReason == .uncaughtSignal)
        try cgroup.remove()
        #expect(!FileManager.default.fileExists(atPath: cgroup.directories[0]))
    }
}
