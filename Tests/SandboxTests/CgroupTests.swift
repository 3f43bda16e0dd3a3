import Foundation
import PipsqueakSandbox
import Testing

/// Cgroup limit files, checked against a temporary directory laid out like cgroupfs.
@Suite struct CgroupTests {
    let mount: String

    init() throws {
        mount = NSTemporaryDirectory() + "cgroupfs-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
    }

    private func read(_ path: String) throws -> String {
        try String(contentsOfFile: mount + "/" + path, encoding: .utf8)
    }

    @Test func v2WritesUnifiedLimitFiles() throws {
        let hierarchy = CgroupHierarchy(version: .v2, mountPoint: mount, parent: "pipsqueak/w1")
        try FileManager.default.createDirectory(atPath: mount + "/pipsqueak/w1", withIntermediateDirectories: true)
        let cgroup = hierarchy.cgroup(named: "hello-1")
        try cgroup.create(limits: .init(memoryBytes: 64 << 20, pidsMax: 32, cpuCores: 0.5))
        #expect(try read("pipsqueak/w1/hello-1/memory.max") == "\(64 << 20)")
        #expect(try read("pipsqueak/w1/hello-1/pids.max") == "32")
        #expect(try read("pipsqueak/w1/hello-1/cpu.max") == "50000 100000")
        #expect(cgroup.procFiles == [mount + "/pipsqueak/w1/hello-1/cgroup.procs"])
    }

    @Test func v2FreezeWritesCgroupFreezeAndWaitsForEvents() throws {
        let cgroup = CgroupHierarchy(version: .v2, mountPoint: mount, parent: "p").cgroup(named: "c")
        try FileManager.default.createDirectory(atPath: mount + "/p/c", withIntermediateDirectories: true)
        try "populated 1\nfrozen 1\n".write(toFile: mount + "/p/c/cgroup.events", atomically: true, encoding: .utf8)
        try cgroup.freeze()
        #expect(try read("p/c/cgroup.freeze") == "1")
        try cgroup.thaw()
        #expect(try read("p/c/cgroup.freeze") == "0")
    }

    @Test func v2ReadsMemoryAndOOMKills() throws {
        let cgroup = CgroupHierarchy(version: .v2, mountPoint: mount, parent: "p").cgroup(named: "c")
        try FileManager.default.createDirectory(atPath: mount + "/p/c", withIntermediateDirectories: true)
        try "1234\n".write(toFile: mount + "/p/c/memory.current", atomically: true, encoding: .utf8)
        try "low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\n".write(toFile: mount + "/p/c/memory.events", atomically: true, encoding: .utf8)
        #expect(cgroup.memoryUsage() == 1234)
        #expect(cgroup.oomKills() == 2)
    }

    @Test func v1WritesOneDirectoryPerController() throws {
        for controller in ["memory", "pids", "cpu", "freezer"] {
            try FileManager.default.createDirectory(atPath: "\(mount)/\(controller)", withIntermediateDirectories: true)
        }
        let hierarchy = CgroupHierarchy(version: .v1, mountPoint: mount, parent: "pipsqueak/w1")
        try hierarchy.prepare()
        let cgroup = hierarchy.cgroup(named: "h-2")
        try cgroup.create(limits: .init(memoryBytes: 1 << 30, pidsMax: 100, cpuCores: 2))
        #expect(try read("memory/pipsqueak/w1/h-2/memory.limit_in_bytes") == "\(1 << 30)")
        #expect(try read("pids/pipsqueak/w1/h-2/pids.max") == "100")
        #expect(try read("cpu/pipsqueak/w1/h-2/cpu.cfs_quota_us") == "200000")
        #expect(cgroup.procFiles.count == 4)
        #expect(hierarchy.existingSandboxes() == ["h-2"])
    }

    @Test func v1MissingControllerIsAClearError() {
        let hierarchy = CgroupHierarchy(version: .v1, mountPoint: mount, parent: "pipsqueak/w1")
        #expect(throws: (any Error).self) { try hierarchy.prepare() }
    }

    @Test func detectsTheHostLayout() {
        let unified = FileManager.default.fileExists(atPath: "/sys/fs/cgroup/unified/cgroup.controllers")
        let root = FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers")
        #expect(CgroupHierarchy.detectVersion() == (root ? .v2 : .v1))
        if unified { #expect(CgroupHierarchy.detectVersion(mountPoint: "/sys/fs/cgroup/unified") == .v2) }
        #expect(CgroupHierarchy.detectVersion(mountPoint: mount) == .v1)
    }
}
