import SandboxSetup
import Testing

@Suite struct SandboxConfigurationTests {
    @Test func argumentsRoundTrip() throws {
        var config = SandboxConfiguration()
        config.rootDirectory = "/state/sandboxes/a-1"
        config.binds = [.init(source: "/usr", target: "/usr"), .init(source: "/code/abc", target: "/handler"),
                        .init(source: "/stage/x", target: "/out", writable: true)]
        config.links = [.init(path: "/bin", destination: "usr/bin")]
        config.masks = ["/usr/lib/python3/dist-packages"]
        config.tmpSizeMB = 16
        config.uid = 123_456
        config.gid = 123_456
        config.network = .host
        config.cgroupProcFiles = ["/sys/fs/cgroup/memory/x/cgroup.procs"]
        config.environment = ["A=1", "B=two words"]
        config.command = ["/usr/bin/python3", "-I", "--", "x"]
        #expect(try SandboxConfiguration.parse(arguments: config.arguments) == config)
    }

    @Test(arguments: [
        ["--root"],
        ["--root", "/r", "--uid", "abc", "--", "x"],
        ["--root", "/r", "--frobnicate", "--", "x"],
        ["--root", "/r"],
        ["--", "x"],
        ["--root", "/r", "--uid", "0", "--", "x"],
        ["--root", "/r", "--network", "bridge", "--", "x"],
        ["--root", "/r", "--bind", "nocolon", "--", "x"],
    ])
    func rejectsBadArguments(_ arguments: [String]) {
        #expect(throws: SandboxConfiguration.ParseError.self) { try SandboxConfiguration.parse(arguments: arguments) }
    }
}
