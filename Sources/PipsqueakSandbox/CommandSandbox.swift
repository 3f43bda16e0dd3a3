import Foundation
import Logging
import PipsqueakCore
import SandboxSetup

/// A one-shot program run to completion in a sandbox, such as pip installing a package.
public struct CommandRequest: Sendable {
    /// Names the cgroup and log file (reduced to `[A-Za-z0-9_.-]`).
    public var label: String
    public var command: [String]
    public var binds: [SandboxConfiguration.Bind]
    public var network: HandlerManifest.Network
    public var memoryMB: Int
    public var timeoutSeconds: Double
    public var environment: [String: String]
    public var uid: UInt32
    public var workingDirectory: String
    /// Debian's system packages stay visible (pip itself lives there); handlers never get this.
    public var showSystemPackages: Bool

    public init(label: String, command: [String], binds: [SandboxConfiguration.Bind] = [], network: HandlerManifest.Network = .none,
                memoryMB: Int = 1024, timeoutSeconds: Double = 600, environment: [String: String] = [:], uid: UInt32,
                workingDirectory: String = "/tmp", showSystemPackages: Bool = true) {
        self.label = label
        self.command = command
        self.binds = binds
        self.network = network
        self.memoryMB = memoryMB
        self.timeoutSeconds = timeoutSeconds
        self.environment = environment
        self.uid = uid
        self.workingDirectory = workingDirectory
        self.showSystemPackages = showSystemPackages
    }
}

/// How a sandboxed command ended.
public struct CommandResult: Sendable {
    public var exitCode: Int32?
    public var output: String
    public var timedOut: Bool
    public var outOfMemory: Bool
    public var seconds: Double

    public var succeeded: Bool { exitCode == 0 && !timedOut && !outOfMemory }

    /// The last lines of output, for error messages.
    public func tail(_ lines: Int = 12) -> String {
        output.split(separator: "\n", omittingEmptySubsequences: true).suffix(lines).joined(separator: "\n")
    }
}

extension SandboxLauncher {
    /// Runs `request.command` in a fresh sandbox and waits for it to exit (or kills it at the timeout).
    public func run(_ request: CommandRequest, logger: Logger) async throws(PipsqueakError) -> CommandResult {
        try checkNetwork(request.network)
        let id = "\(Self.label(request.label))-\(counter.next())"
        let rootDirectory = "\(configuration.sandboxesDirectory)/\(id)"
        let cgroup = configuration.hierarchy.cgroup(named: id)
        let logPath = "\(configuration.stateDirectory)/logs/commands/\(id).log"
        do {
            try FileManager.default.createDirectory(atPath: rootDirectory, withIntermediateDirectories: true)
        } catch {
            throw PipsqueakError(.sandboxFailed, "cannot create \(rootDirectory): \(error)")
        }
        var cleanup = SandboxCleanup(cgroup: cgroup, rootDirectory: rootDirectory)
        let started = ContinuousClock.now
        do {
            try cgroup.create(limits: CgroupLimits(memoryBytes: Int64(request.memoryMB) << 20, pidsMax: max(configuration.pidsMax, 256),
                                                   cpuCores: Double(ProcessInfo.processInfo.activeProcessorCount)))
        } catch {
            await cleanup.run()
            throw error
        }
        var config = baseConfiguration(rootDirectory: rootDirectory, cgroup: cgroup, uid: request.uid,
                                       network: request.network, environment: request.environment, identity: request.label)
        if request.showSystemPackages { config.masks = [] }
        config.binds += request.binds
        // A command with a network (pip talking to a remote index) needs the host's CA certificates.
        if request.network != .none && FileManager.default.fileExists(atPath: "/etc/ssl/certs") {
            config.binds.append(.init(source: "/etc/ssl/certs", target: "/etc/ssl/certs"))
        }
        config.workingDirectory = request.workingDirectory
        config.command = request.command
        let process: HelperProcess.Spawned
        do {
            process = try HelperProcess.spawn(helper: configuration.helperPath, arguments: config.arguments, logPath: logPath)
        } catch {
            await cleanup.run()
            throw error
        }
        close(process.socket)
        cleanup.helperPID = process.pid
        let exitCode = await HelperProcess.reap(process.pid, timeoutSeconds: request.timeoutSeconds)
        let timedOut = exitCode == nil
        let outOfMemory = cgroup.oomKills() > 0
        let status = HelperProcess.readStatus(process.statusPipe)
        close(process.statusPipe)
        if timedOut {
            try? cgroup.killAll()
            _ = await HelperProcess.reap(process.pid)
        }
        cleanup.helperPID = nil
        await cleanup.run()
        var output = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        if !status.isEmpty { output += "\n" + status }
        try? FileManager.default.removeItem(atPath: logPath)
        logger.debug("sandboxed command finished", metadata: ["label": "\(request.label)", "exit": "\(exitCode.map(String.init) ?? "timeout")"])
        return CommandResult(exitCode: exitCode, output: output, timedOut: timedOut, outOfMemory: outOfMemory,
                             seconds: (ContinuousClock.now - started).inSeconds)
    }
}
