import Foundation
import Logging
import NIOCore
import PipsqueakCore
import PSShim
import SandboxSetup

/// A zygote to start: the distributions it holds (mounted at their usual paths) and the modules it imports.
public struct ZygoteSpec: Sendable {
    public var id: String
    /// Every distribution the zygote holds, its parent's included, with the host directory mounted for each.
    public var packages: [(ref: PackageRef, site: String)]
    /// Modules to import beyond what the parent imported.
    public var imports: [String]
    public var memoryMB: Int

    public init(id: String, packages: [(ref: PackageRef, site: String)], imports: [String], memoryMB: Int = 1024) {
        self.id = id
        self.packages = packages
        self.imports = imports
        self.memoryMB = memoryMB
    }
}

/// The import cache's mechanism: zygote sandboxes, and handler instances forked from zygotes into sandboxes
/// prepared inside the zygotes' user namespaces.
extension SandboxLauncher {
    static let zygoteRuntimeDirectory = "/pipsqueak"
    static let namespaceReportTimeout: Duration = .seconds(30)

    private var runtimeDirectory: String { (configuration.runtimeScript as NSString).deletingLastPathComponent }

    // MARK: zygotes

    /// Starts the root zygote: the runtime only, in a new user namespace mapped to `ZygoteIDRange.root`.
    public func startRootZygote(_ spec: ZygoteSpec, logger: Logger) async throws(PipsqueakError) -> ZygoteProcess {
        let range = ZygoteIDRange.root
        var config = zygoteConfiguration(spec, occupant: .zygote, joinOwner: false,
                                         mappings: range.mappings(handlerBase: UInt32(configuration.uidBase)))
        config.command += spec.packages.flatMap { ["--path", $0.ref.pathInSandbox] } + spec.imports.flatMap { ["--import", $0] }
        let (sandbox, controlFD) = try await spawnUserNamespaceSandbox(
            id: "zygote-\(spec.id)", config: config, limits: zygoteLimits(spec), owner: nil, controlType: Int32(SOCK_SEQPACKET.rawValue))
        let control = ControlSocket(controlFD)
        do throws(PipsqueakError) {
            let ready = try await control.next(timeout: .seconds(120))
            let (seconds, pid) = try Self.readiness(ready, spec: spec)
            guard let hostPID = Self.hostPID(of: pid, in: sandbox) else {
                throw PipsqueakError(.sandboxFailed, "root zygote's process not found")
            }
            let pidfd = ps_pidfd_open(hostPID, 0)
            guard pidfd >= 0 else { throw PipsqueakError(.sandboxFailed, "pidfd_open: \(String(cString: strerror(errno)))") }
            logger.info("root zygote ready", metadata: ["zygote": "\(spec.id)", "pid": "\(hostPID)"])
            return ZygoteProcess(id: spec.id, packages: spec.packages.map(\.ref), hostPID: hostPID, importSeconds: seconds, idRange: range,
                                 control: control, sandbox: sandbox, pidfd: OwnedDescriptor(pidfd))
        } catch {
            control.descriptor.close()
            await sandbox.destroy()
            throw error
        }
    }

    /// Forks `parent` into a new zygote sandbox (a nested user namespace), which then imports `spec.imports`.
    public func forkZygote(from parent: ZygoteProcess, _ spec: ZygoteSpec, logger: Logger) async throws(PipsqueakError) -> ZygoteProcess {
        guard let (slot, range) = parent.claimChildSlot() else {
            throw PipsqueakError(.sandboxFailed, "zygote \(parent.id) has no room for another child")
        }
        var claimed = true
        defer { if claimed { parent.releaseChildSlot(slot) } }
        let config = zygoteConfiguration(spec, occupant: .hold, joinOwner: true,
                                         mappings: range.mappings(handlerBase: UInt32(configuration.uidBase)))
        let (sandbox, helperSocket) = try await spawnUserNamespaceSandbox(
            id: "zygote-\(spec.id)", config: config, limits: zygoteLimits(spec), owner: parent.sandbox.namespaces,
            controlType: Int32(SOCK_STREAM.rawValue))
        close(helperSocket)
        var pair: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            await sandbox.destroy()
            throw PipsqueakError(.sandboxFailed, "socketpair: \(String(cString: strerror(errno)))")
        }
        let control = ControlSocket(pair[0])
        let childEnd = OwnedDescriptor(pair[1])
        let paths = spec.packages.map(\.ref.pathInSandbox)
        do throws(PipsqueakError) {
            let namespaces = sandbox.namespaces
            let reply = try await parent.control.call(
                ["op": "zygote", "spec": ["paths": paths, "imports": spec.imports]],
                descriptors: [namespaces.user.raw, namespaces.mount.raw, namespaces.ipc.raw, namespaces.uts.raw, namespaces.network.raw,
                              namespaces.pid.raw, childEnd.raw],
                timeout: .seconds(10))
            childEnd.close()
            let (hostPID, pidfd) = try Self.forkedChild(reply, in: sandbox, what: "zygote")
            do {
                try sandbox.cgroup.adopt(hostPID)
                try await control.post(["op": "go"])
                let ready = try await control.next(timeout: .seconds(300))
                let (seconds, _) = try Self.readiness(ready, spec: spec)
                claimed = false
                logger.info("zygote ready", metadata: ["zygote": "\(spec.id)", "parent": "\(parent.id)", "pid": "\(hostPID)",
                                                      "import_s": "\(seconds)"])
                return ZygoteProcess(id: spec.id, packages: spec.packages.map(\.ref), hostPID: hostPID, importSeconds: seconds,
                                     idRange: range, control: control, sandbox: sandbox, pidfd: pidfd, slot: (parent, slot))
            } catch {
                _ = ps_pidfd_send_signal(pidfd.raw, SIGKILL)
                throw error
            }
        } catch {
            childEnd.close()
            control.descriptor.close()
            await sandbox.destroy()
            throw error
        }
    }

    private func zygoteConfiguration(_ spec: ZygoteSpec, occupant: SandboxConfiguration.UserNamespaceSetup.Occupant, joinOwner: Bool,
                                     mappings: [SandboxConfiguration.UserNamespaceSetup.IDMapping]) -> SandboxConfiguration {
        let id = "zygote-\(spec.id)"
        var config = baseConfiguration(rootDirectory: "\(configuration.sandboxesDirectory)/\(id)",
                                       cgroup: configuration.hierarchy.cgroup(named: id), uid: 65534, network: .none,
                                       environment: ["OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"],
                                       identity: "zygote-\(spec.id)")
        config.binds.append(.init(source: runtimeDirectory, target: Self.zygoteRuntimeDirectory))
        config.binds += spec.packages.map { .init(source: $0.site, target: $0.ref.pathInSandbox) }
        config.workingDirectory = "/"
        config.maxOpenFiles = 4096
        config.command = [configuration.python, "-I", "-S", "-B", "-u", "\(Self.zygoteRuntimeDirectory)/zygote.py"]
        config.userNamespace = .init(occupant: occupant, joinOwner: joinOwner, newMappings: mappings)
        return config
    }

    private func zygoteLimits(_ spec: ZygoteSpec) -> CgroupLimits {
        CgroupLimits(memoryBytes: Int64(spec.memoryMB) << 20, pidsMax: 64, cpuCores: Double(ProcessInfo.processInfo.activeProcessorCount))
    }

    // MARK: handler instances

    /// Builds `request`'s sandbox inside `zygote`'s user namespace, ready for a forked runtime.
    public func prepareSandbox(_ request: SandboxRequest, in zygote: ZygoteProcess) async throws(PipsqueakError) -> PreparedSandbox {
        let id = "\(request.handler)-\(counter.next())"
        let rootDirectory = "\(configuration.sandboxesDirectory)/\(id)"
        var config = sandboxConfiguration(for: request, rootDirectory: rootDirectory, cgroup: configuration.hierarchy.cgroup(named: id))
        config.binds.append(.init(source: runtimeDirectory, target: Self.zygoteRuntimeDirectory))
        config.userNamespace = .init(occupant: .hold, joinOwner: true, newMappings: [])
        let limits = CgroupLimits(memoryBytes: Int64(request.memoryMB) << 20, pidsMax: configuration.pidsMax, cpuCores: configuration.cpuCores)
        let (sandbox, helperSocket) = try await spawnUserNamespaceSandbox(
            id: id, config: config, limits: limits, owner: zygote.sandbox.namespaces, controlType: Int32(SOCK_STREAM.rawValue),
            packages: request.packages)
        close(helperSocket)
        return sandbox
    }

    /// Forks `zygote` into `prepared` and waits until the forked runtime has loaded the handler.
    public func forkHandler(_ request: SandboxRequest, from zygote: ZygoteProcess, into prepared: PreparedSandbox,
                            logger: Logger) async throws(PipsqueakError) -> Sandbox {
        var pair: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            await prepared.destroy()
            throw PipsqueakError(.sandboxFailed, "socketpair: \(String(cString: strerror(errno)))")
        }
        let runtimeEnd = OwnedDescriptor(pair[1])
        let log = OwnedDescriptor(HelperProcess.openLog("\(configuration.stateDirectory)/logs/\(request.handler).log"))
        let channel: RuntimeChannel
        do {
            channel = try await RuntimeChannel.connect(descriptor: pair[0], group: group)
        } catch {
            close(pair[0])
            await prepared.destroy()
            throw PipsqueakError(.sandboxFailed, "cannot attach to runtime socket: \(error)")
        }
        let sandbox = Sandbox(id: prepared.id, handler: request.handler, cgroup: prepared.cgroup, helperPID: prepared.helperPID,
                              statusPipe: prepared.statusPipe.take(), channel: channel, rootDirectory: prepared.rootDirectory,
                              packages: request.packages, forked: true)
        sandbox.origin = .import
        do throws(PipsqueakError) {
            let namespaces = prepared.namespaces
            let reply = try await zygote.control.call(
                ["op": "handler", "spec": handlerSpec(request)],
                descriptors: [namespaces.mount.raw, namespaces.ipc.raw, namespaces.uts.raw, namespaces.network.raw, namespaces.pid.raw,
                              runtimeEnd.raw, log.raw],
                timeout: .seconds(10))
            runtimeEnd.close()
            log.close()
            let (hostPID, pidfd) = try Self.forkedChild(reply, in: prepared, what: "handler runtime")
            namespaces.closeAll()
            do {
                try prepared.cgroup.adopt(hostPID)
            } catch {
                _ = ps_pidfd_send_signal(pidfd.raw, SIGKILL)
                throw error
            }
            try await sandbox.waitUntilReady(timeoutSeconds: request.startTimeoutSeconds, sendingGo: true)
            logger.debug("forked instance ready", metadata: ["sandbox": "\(prepared.id)", "zygote": "\(zygote.id)", "pid": "\(hostPID)"])
            return sandbox
        } catch {
            runtimeEnd.close()
            log.close()
            await sandbox.destroy()
            throw error
        }
    }

    /// What the forked runtime needs to become the handler: ids, limits, environment, entry, paths, seccomp.
    private func handlerSpec(_ request: SandboxRequest) -> [String: Any] {
        let config = sandboxConfiguration(for: request, rootDirectory: "/", cgroup: configuration.hierarchy.cgroup(named: "unused"))
        var environment: [String: String] = [:]
        for variable in config.environment {
            guard let equals = variable.firstIndex(of: "=") else { continue }
            environment[String(variable[..<equals])] = String(variable[variable.index(after: equals)...])
        }
        let filter = SeccompFilter.native.map { $0.programBytes.map { String(format: "%02x", $0) }.joined() } ?? ""
        return [
            "uid": Int(config.uid), "gid": Int(config.gid), "nofile": config.maxOpenFiles, "fsize_mb": config.maxFileSizeMB,
            "workdir": config.workingDirectory, "env": environment, "seccomp": filter,
            "options": ["entry": request.entry, "name": request.handler, "memory-mb": String(request.memoryMB),
                        "code": Self.codeInSandbox, "path": request.pythonPaths] as [String: Any],
        ]
    }

    // MARK: shared steps

    /// Spawns the helper for a user-namespace sandbox and receives the namespaces its pid 1 reports.
    /// Returns the sandbox and the worker's end of the helper's fd 3.
    private func spawnUserNamespaceSandbox(id: String, config: SandboxConfiguration, limits: CgroupLimits, owner: NamespaceSet?,
                                           controlType: Int32, packages: [PackageRef] = []) async throws(PipsqueakError)
        -> (PreparedSandbox, Int32) {
        let rootDirectory = config.rootDirectory
        let cgroup = configuration.hierarchy.cgroup(named: id)
        do {
            try FileManager.default.createDirectory(atPath: rootDirectory, withIntermediateDirectories: true)
        } catch {
            throw PipsqueakError(.sandboxFailed, "cannot create \(rootDirectory): \(error)")
        }
        var cleanup = SandboxCleanup(cgroup: cgroup, rootDirectory: rootDirectory)
        var report: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &report) == 0 else {
            await cleanup.run()
            throw PipsqueakError(.sandboxFailed, "socketpair: \(String(cString: strerror(errno)))")
        }
        let reportSocket = ControlSocket(report[0])
        let reportChild = OwnedDescriptor(report[1])
        let process: HelperProcess.Spawned
        do {
            try cgroup.create(limits: limits)
            var extra: [Int32: Int32] = [5: reportChild.raw]
            if let owner {
                extra[6] = owner.user.raw
                extra[7] = owner.pid.raw
            }
            process = try HelperProcess.spawn(helper: configuration.helperPath, arguments: config.arguments,
                                              logPath: "\(configuration.stateDirectory)/logs/\(id).log", socketType: controlType,
                                              extraDescriptors: extra)
        } catch {
            reportChild.close()
            await cleanup.run()
            throw error
        }
        reportChild.close()
        cleanup.helperPID = process.pid
        do throws(PipsqueakError) {
            let message = try await reportSocket.next(timeout: Self.namespaceReportTimeout)
            guard let namespaces = NamespaceSet(message.descriptors) else {
                message.descriptors.forEach { close($0) }
                throw PipsqueakError(.sandboxFailed, "sandbox \(id) reported \(message.descriptors.count) namespaces, not 6")
            }
            reportSocket.descriptor.close()
            return (PreparedSandbox(id: id, cgroup: cgroup, helperPID: process.pid, statusPipe: process.statusPipe,
                                    rootDirectory: rootDirectory, namespaces: namespaces, packages: packages), process.socket)
        } catch {
            reportSocket.descriptor.close()
            let status = HelperProcess.readStatus(process.statusPipe)
            close(process.statusPipe)
            close(process.socket)
            await cleanup.run()
            throw status.isEmpty ? error : PipsqueakError(.sandboxFailed, "sandbox \(id) failed: \(status)")
        }
    }

    /// The host pid and a pidfd of the child a zygote forked, checked to live in `sandbox`'s pid namespace.
    private static func forkedChild(_ reply: ControlSocket.Message, in sandbox: PreparedSandbox, what: String)
        throws(PipsqueakError) -> (pid_t, OwnedDescriptor) {
        let descriptors = reply.descriptors.map(OwnedDescriptor.init)
        if let error = reply.json["error"] as? String {
            throw PipsqueakError(.sandboxFailed, "zygote refused to fork a \(what): \(error)")
        }
        guard descriptors.count == 1, let pidfd = descriptors.first, let hostPID = hostPID(ofPidfd: pidfd.raw) else {
            throw PipsqueakError(.badResponse, "zygote answered a fork without a pidfd")
        }
        // The pidfd names exactly the forked process; it must be in the sandbox we prepared, nowhere else.
        guard sandbox.contains(hostPID: hostPID) else {
            _ = ps_pidfd_send_signal(pidfd.raw, SIGKILL)
            throw PipsqueakError(.sandboxFailed, "the forked \(what) is not in its sandbox's pid namespace")
        }
        return (hostPID, pidfd)
    }

    private static func readiness(_ message: ControlSocket.Message, spec: ZygoteSpec) throws(PipsqueakError) -> (Double, Int) {
        message.descriptors.forEach { close($0) }
        guard message.json["ready"] as? Bool == true, let pid = message.json["pid"] as? Int else {
            throw PipsqueakError(.badResponse, "zygote \(spec.id) sent no readiness")
        }
        if let failed = message.json["failed"] as? [String: String], !failed.isEmpty {
            throw PipsqueakError(.sandboxFailed, "zygote \(spec.id) could not import: \(failed.map { "\($0.key) (\($0.value))" }.sorted().joined(separator: ", "))")
        }
        return (message.json["seconds"] as? Double ?? 0, pid)
    }

    /// The host pid behind a pidfd, from `/proc/self/fdinfo`.
    static func hostPID(ofPidfd fd: Int32) -> pid_t? {
        guard let text = try? String(contentsOfFile: "/proc/self/fdinfo/\(fd)", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("Pid:") {
            return pid_t(line.dropFirst(4).trimmingCharacters(in: .whitespaces)).flatMap { $0 > 0 ? $0 : nil }
        }
        return nil
    }

    /// The host pid of the process that is `pid` inside `sandbox`'s pid namespace.
    private static func hostPID(of pid: Int, in sandbox: PreparedSandbox) -> pid_t? {
        for candidate in sandbox.cgroup.processes() where sandbox.contains(hostPID: candidate) {
            guard let status = try? String(contentsOfFile: "/proc/\(candidate)/status", encoding: .utf8),
                  let line = status.split(separator: "\n").first(where: { $0.hasPrefix("NSpid:") }) else { continue }
            if line.split(whereSeparator: { $0 == " " || $0 == "\t" }).last.flatMap({ Int($0) }) == pid { return candidate }
        }
        return nil
    }
}

extension Cgroup {
    /// Moves a process (by host pid) into this cgroup, in every hierarchy.
    func adopt(_ pid: pid_t) throws(PipsqueakError) {
        for file in procFiles { try CgroupFile.write(String(pid), to: file) }
    }
}
