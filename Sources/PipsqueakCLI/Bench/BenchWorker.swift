import Foundation
import PipsqueakCore

/// A `pipsqueak worker` this process starts for a benchmark, on a free port and a fresh state directory.
final class BenchWorker: @unchecked Sendable {
    let stateDirectory: URL
    let url: String
    private let process = Process()
    private let logFile: URL

    init(arguments: [String], label: String) throws {
        stateDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("pipsqueak-bench-\(label)-\(UUID().uuidString.prefix(6))")
        logFile = stateDirectory.appendingPathExtension("log")
        FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let log = try FileHandle(forWritingTo: logFile)
        process.executableURL = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
                                    ?? CommandLine.arguments[0])
        process.arguments = ["worker", "--port", "0", "--state-dir", stateDirectory.path, "--log-level", "notice"] + arguments
        process.standardError = log
        process.standardOutput = log
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        var found: String?
        while Date() < deadline && found == nil && process.isRunning {
            let text = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
            found = text.split(separator: "\n").first { $0.hasPrefix("listening on ") }.map { String($0.dropFirst("listening on ".count)) }
            if found == nil { usleep(50_000) }
        }
        guard let found else {
            if process.isRunning {
                kill(process.processIdentifier, SIGTERM)
                process.waitUntilExit()
            }
            throw CLIError("the benchmark's worker did not start:\n\((try? String(contentsOf: logFile, encoding: .utf8)) ?? "")")
        }
        url = found
    }

    var client: WorkerClient { WorkerClient(baseURL: url) }

    /// The worker's `/packages/<name>/<version>/site` directory of an installed distribution.
    func siteDirectory(_ ref: String) -> URL? {
        let parts = ref.components(separatedBy: "==")
        guard parts.count == 2 else { return nil }
        return stateDirectory.appendingPathComponent("packages/\(PackageRef.normalize(parts[0]))/\(parts[1])/site")
    }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
        }
    }

    /// Stops the worker and removes its state.
    func remove() {
        stop()
        try? FileManager.default.removeItem(at: stateDirectory)
        try? FileManager.default.removeItem(at: logFile)
    }
}
