import Foundation
import Logging
import NIOCore
import NIOPosix
import PipsqueakCore
import PipsqueakRuntime
@testable import PipsqueakSandbox
import Testing

/// Zygotes for real: user namespaces, forks into prepared sandboxes, and the kernel refusing the wrong zygote.
@Suite(.serialized, .enabled(if: geteuid() == 0, "zygotes need root (user, pid and mount namespaces; cgroups); CI runs as root"))
struct ZygoteMechanismTests {
    /// A launcher over a temporary state directory with the runtime files installed, and its cleanup.
    final class Fixture: @unchecked Sendable {
        let state: URL
        let hierarchy: CgroupHierarchy
        let launcher: SandboxLauncher
        let code: URL
        let logger = Logger(label: "zygote-test")

        init(handler: String) throws {
            state = FileManager.default.temporaryDirectory.appendingPathComponent("pipsqueak-zygote-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: state.appendingPathComponent("sandboxes"), withIntermediateDirectories: true)
            try PythonRuntime.install(into: state.appendingPathComponent("runtime"))
            code = state.appendingPathComponent("code")
            try FileManager.default.createDirectory(at: code, withIntermediateDirectories: true)
            chmod(state.path, 0o755)
            chmod(code.path, 0o755)
            try handler.write(to: code.appendingPathComponent("f.py"), atomically: true, encoding: .utf8)
            chmod(code.appendingPathComponent("f.py").path, 0o644)
            hierarchy = CgroupHierarchy(version: CgroupHierarchy.detectVersion(), parent: "pipsqueak-test/\(state.lastPathComponent)")
            try hierarchy.prepare()
            let helper = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "")
                .deletingLastPathComponent().appendingPathComponent("pipsqueak-sandbox").path
            launcher = SandboxLauncher(
                configuration: .init(helperPath: helper, python: "/usr/bin/python3",
                                     runtimeScript: state.appendingPathComponent("runtime/runtime.py").path, stateDirectory: state.path,
                                     rootfs: "", hierarchy: hierarchy, tmpMB: 16, pidsMax: 64, cpuCores: 1, uidBase: 100_000),
                group: MultiThreadedEventLoopGroup.singleton)
        }

        func request(_ name: String) -> SandboxRequest {
            SandboxRequest(handler: name, codeDirectory: code.path, entry: "f.f", memoryMB: 128, startTimeoutSeconds: 20)
        }

        func tearDown() {
            hierarchy.removeAll()
            hierarchy.removeParent()
            try? FileManager.default.removeItem(at: state)
        }
    }

    static let probe = """
        import os, sys
        def f(event):
            status = dict(line.split(":", 1) for line in open("/proc/self/status"))
            return {"uid": os.getuid(), "pid": os.getpid(), "json_loaded": "json" in sys.modules,
                    "cap_eff": status["CapEff"].strip(), "no_new_privs": status["NoNewPrivs"].strip(),
                    "seccomp": status["Seccomp"].strip(), "root": sorted(os.listdir("/")), "event": event}
        """

    @Test func handlerForkedFromTheRootZygoteRunsUnprivilegedInItsOwnSandbox() async throws {
        let fixture = try Fixture(handler: Self.probe)
        defer { fixture.tearDown() }
        let root = try await fixture.launcher.startRootZygote(ZygoteSpec(id: "root", packages: [], imports: ["json"]), logger: fixture.logger)
        let request = fixture.request("probe")
        let prepared = try await fixture.launcher.prepareSandbox(request, in: root)
        let sandbox = try await fixture.launcher.forkHandler(request, from: root, into: prepared, logger: fixture.logger)
        let outcome = try await sandbox.invoke(event: ByteBuffer(string: "[42]"), requestID: "r1", timeoutSeconds: 10)
        guard case .result(let bytes) = outcome else { Issue.record("handler raised: \(outcome)"); return }
        let result = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(result["uid"] as? Int == Int(fixture.launcher.uid(for: "probe")))
        #expect(result["pid"] as? Int == 2, "the forked runtime is pid 2 of the handler's own pid namespace")
        #expect(result["json_loaded"] as? Bool == true, "modules the zygote imported are there")
        #expect(result["cap_eff"] as? String == "0000000000000000")
        #expect(result["no_new_privs"] as? String == "1")
        #expect(result["seccomp"] as? String == "2")
        #expect(result["event"] as? [Int] == [42])
        #expect((result["root"] as? [String])?.contains("handler") == true)
        #expect(sandbox.origin == .import)
        await sandbox.destroy()
        await root.destroy()
    }

    /// The subset rule, enforced by the kernel: a nested zygote (which imported more) and a sibling both get
    /// EPERM when asked to move a child into a sandbox built in another zygote's user namespace.
    @Test func onlyTheOwningZygoteCanJoinASandbox() async throws {
        let fixture = try Fixture(handler: Self.probe)
        defer { fixture.tearDown() }
        let root = try await fixture.launcher.startRootZygote(ZygoteSpec(id: "root", packages: [], imports: []), logger: fixture.logger)
        let child = try await fixture.launcher.forkZygote(from: root, ZygoteSpec(id: "child", packages: [], imports: ["json"]),
                                                          logger: fixture.logger)
        let sibling = try await fixture.launcher.forkZygote(from: root, ZygoteSpec(id: "sibling", packages: [], imports: []),
                                                            logger: fixture.logger)
        let request = fixture.request("probe")
        for intruder in [child, sibling] {
            let prepared = try await fixture.launcher.prepareSandbox(request, in: root)
            do {
                let sandbox = try await fixture.launcher.forkHandler(request, from: intruder, into: prepared, logger: fixture.logger)
                Issue.record("zygote \(intruder.id) joined a sandbox of the root zygote")
                await sandbox.destroy()
            } catch {
                #expect(error.message.contains("Operation not permitted"), "\(intruder.id): \(error)")
            }
        }
        // The child zygote serves sandboxes built in its own user namespace.
        let own = try await fixture.launcher.prepareSandbox(request, in: child)
        let sandbox = try await fixture.launcher.forkHandler(request, from: child, into: own, logger: fixture.logger)
        let outcome = try await sandbox.invoke(event: ByteBuffer(string: "1"), requestID: "r2", timeoutSeconds: 10)
        guard case .result = outcome else { Issue.record("\(outcome)"); return }
        await sandbox.destroy()
        for zygote in [sibling, child, root] { await zygote.destroy() }
    }
}
