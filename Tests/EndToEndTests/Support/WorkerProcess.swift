import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PipsqueakCore
import Testing

/// End-to-end tests need root: the worker creates namespaces, mounts and cgroups.
let isRoot = geteuid() == 0
let rootOnlyReason: Comment = "needs root (namespaces, mounts, cgroups); CI runs as root"

/// Directory holding the built `pipsqueak` and `pipsqueak-sandbox` executables.
let buildDirectory: URL = {
    let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    var url = URL(fileURLWithPath: executable).deletingLastPathComponent()
    while url.path != "/" && !FileManager.default.fileExists(atPath: url.appendingPathComponent("pipsqueak").path) {
        url.deleteLastPathComponent()
    }
    return url
}()

/// A real `pipsqueak worker` process on a free port, with its own state directory.
final class WorkerProcess: @unchecked Sendable {
    let stateDirectory: URL
    let process = Process()
    private(set) var url = ""
    private let stderrLog: URL

    init(stateDirectory: URL? = nil, arguments: [String] = []) throws {
        self.stateDirectory = stateDirectory ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("pipsqueak-e2e-\(UUID().uuidString.prefix(8))")
        stderrLog = self.stateDirectory.deletingLastPathComponent()
            .appendingPathComponent("\(self.stateDirectory.lastPathComponent)-\(UUID().uuidString.prefix(4)).log")
        try start(arguments: arguments)
    }

    var pid: Int32 { process.processIdentifier }

    private func start(arguments: [String]) throws {
        FileManager.default.createFile(atPath: stderrLog.path, contents: nil)
        let logHandle = try FileHandle(forWritingTo: stderrLog)
        process.executableURL = buildDirectory.appendingPathComponent("pipsqueak")
        process.arguments = ["worker", "--port", "0", "--state-dir", stateDirectory.path, "--log-level", "debug"] + arguments
        process.standardError = logHandle
        process.standardOutput = logHandle
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let line = log.split(separator: "\n").first(where: { $0.hasPrefix("listening on ") }) {
                url = String(line.dropFirst("listening on ".count))
                return
            }
            if !process.isRunning { break }
            usleep(20_000)
        }
        throw WorkerTestError("worker did not start:\n\(log)")
    }

    var log: String { (try? String(contentsOf: stderrLog, encoding: .utf8)) ?? "" }

    /// Sends a signal and waits for the process to exit; returns its termination status.
    @discardableResult
    func stop(signal: Int32 = SIGTERM) -> Int32 {
        if process.isRunning { kill(process.processIdentifier, signal) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// The worker's parent cgroup path below each hierarchy.
    var cgroupParent: String {
        "pipsqueak/" + String(Array(stateDirectory.standardizedFileURL.path.utf8).sha256Hex.prefix(12))
    }

    /// This worker's cgroup directories that exist now, in any hierarchy.
    func cgroupDirectories() -> [String] {
        let bases = ["/sys/fs/cgroup/freezer", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids", "/sys/fs/cgroup"]
        return bases.map { "\($0)/\(cgroupParent)" }.filter { FileManager.default.fileExists(atPath: $0) }
    }

    /// Sandbox cgroups (children of the worker's parent cgroup) that exist now.
    func sandboxCgroups() -> [String] {
        cgroupDirectories().flatMap { directory in
            ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter {
                FileManager.default.fileExists(atPath: "\(directory)/\($0)/cgroup.procs")
            }
        }
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
        }
    }
}

/// Pids of sandbox helper processes whose root lies in `stateDirectory`.
func helperProcesses(for stateDirectory: URL) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { Int32($0) }.filter { pid in
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        let command = String(decoding: data, as: UTF8.self)
        return command.contains("pipsqueak-sandbox") && command.contains(stateDirectory.path)
    }
}

struct WorkerTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// One HTTP exchange with a worker.
struct Reply: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: Data

    var start: String? { headers["X-Pipsqueak-Start"].first }
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed])) as? [String: Any] ?? [:] }
    var error: [String: Any] { json["error"] as? [String: Any] ?? [:] }
    var errorCode: String? { error["code"] as? String }
    var text: String { String(decoding: body, as: UTF8.self) }
}

extension WorkerProcess {
    func request(_ method: HTTPMethod, _ path: String, body: [UInt8]? = nil) async throws -> Reply {
        var request = HTTPClientRequest(url: url + path)
        request.method = method
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(120))
        let bytes = try await response.body.collect(upTo: 256 << 20)
        return Reply(status: Int(response.status.code), headers: response.headers, body: Data(bytes.readableBytesView))
    }

    /// Deploys a handler made of `files` (relative path to source text).
    @discardableResult
    func deploy(_ name: String, _ files: [String: String]) async throws -> Reply {
        let archive = try HandlerArchive.gzipTar(files: files.map { ($0.key, Array($0.value.utf8)) })
        return try await request(.PUT, "/handlers/\(name)", body: archive)
    }

    func invoke(_ name: String, _ event: String = "{}") async throws -> Reply {
        try await request(.POST, "/run/\(name)", body: Array(event.utf8))
    }

    func status() async throws -> [String: Any] {
        try await request(.GET, "/status").json
    }

    /// The zygote tree (`GET /zygotes`).
    func zygotes() async throws -> [[String: Any]] {
        try JSONSerialization.jsonObject(with: try await request(.GET, "/zygotes").body) as? [[String: Any]] ?? []
    }

    /// Waits until the import cache's root zygote serves, so cold starts are forks.
    func waitForRootZygote() async throws {
        try await waitUntil(timeout: .seconds(30)) {
            try await self.zygotes().contains { $0["parent"] == nil && $0["alive"] as? Bool == true }
        }
    }
}
