import NIOPosix
import PipsqueakSandbox
import Testing

@Suite struct SandboxLauncherTests {
    let launcher = SandboxLauncher(
        configuration: .init(helperPath: "/x/pipsqueak-sandbox", python: "/usr/bin/python3", runtimeScript: "/s/runtime/runtime.py",
                             stateDirectory: "/s", rootfs: "", hierarchy: CgroupHierarchy(version: .v2, mountPoint: "/cg", parent: "p/w"),
                             tmpMB: 32, pidsMax: 64, cpuCores: 1, uidBase: 100_000),
        group: MultiThreadedEventLoopGroup.singleton)

    @Test func sandboxMountsCodeRuntimeAndBaseReadOnlyAndHidesSystemPackages() {
        let request = SandboxRequest(handler: "hello", codeDirectory: "/s/code/abc", entry: "f.f", environment: ["MODE": "x"])
        let config = launcher.sandboxConfiguration(for: request, rootDirectory: "/s/sandboxes/hello-1",
                                                   cgroup: CgroupHierarchy(version: .v2, mountPoint: "/cg", parent: "p/w").cgroup(named: "hello-1"))
        #expect(config.binds.contains(.init(source: "/s/code/abc", target: "/handler")))
        #expect(config.binds.contains(.init(source: "/s/runtime/runtime.py", target: "/pipsqueak/runtime.py")))
        #expect(config.binds.contains { $0.target == "/usr" })
        #expect(!config.binds.contains { $0.source.hasPrefix("/s/code") && $0.source != "/s/code/abc" })
        #expect(config.masks.contains("/usr/lib/python3/dist-packages"))
        #expect(config.command.prefix(3) == ["/usr/bin/python3", "-I", "-S"])
        #expect(config.environment.contains("MODE=x"))
        #expect(config.environment.contains("PIPSQUEAK_HANDLER=hello"))
        #expect(config.network == .none)
        #expect(config.cgroupProcFiles == ["/cg/p/w/hello-1/cgroup.procs"])
        #expect(config.uid >= 100_000)
    }

    @Test func labelsAreSafeInCgroupAndFileNames() {
        #expect(SandboxLauncher.label("install-numpy") == "install-numpy")
        #expect(SandboxLauncher.label("startup-../../etc x") == "startup-.._.._etc_x")
        #expect(SandboxLauncher.label("import-é/ü") == "import-___")
        #expect(SandboxLauncher.label(String(repeating: "a", count: 100)).count == 40)
    }

    @Test func uidIsStablePerHandlerAndDiffersBetweenHandlers() {
        #expect(launcher.uid(for: "alpha") == launcher.uid(for: "alpha"))
        #expect(launcher.uid(for: "alpha") != launcher.uid(for: "beta"))
    }
}
