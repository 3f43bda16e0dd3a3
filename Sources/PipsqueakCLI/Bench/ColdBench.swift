import ArgumentParser
import Foundation
import Histogram
import PipsqueakCore

/// `pipsqueak bench cold`: first invocations of many distinct handlers that import a large package, with the
/// import cache on, off, and a runc baseline, measured in one run.
struct ColdBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cold",
        abstract: "Cold starts of distinct handlers importing numpy (and pandas): import cache on, off, and runc, side by side.",
        discussion: """
            Starts its own workers (run as root). For each package it deploys --handlers distinct handlers that import it and
            invokes each exactly once, measuring client latency through HTTP, in three configurations:
              1. import cache on: a static zygote tree (numpy, then the package), sandboxes prepared ahead;
              2. import cache off: a fresh sandbox and interpreter that imports the package;
              3. runc run of an OCI bundle with the package baked in (runc from Debian; skipped if absent).
            Wheels come from PyPI once (pip download, binary only: nothing runs on the host) into --wheels, then
            workers install them from there. Also reports each import-tier instance's private memory.
            """)

    @Option(help: "Distinct handlers per package.") var handlers = 50
    @Option(parsing: .upToNextOption, help: "Packages to measure, each with its own handlers.") var packages = ["numpy", "pandas"]
    @Option(help: "Directory of downloaded wheels (filled from PyPI when empty).") var wheels = "/var/cache/pipsqueak/bench-wheels"
    @Option(help: "Cold starts through runc (0 skips the baseline).") var runcStarts = 50

    func run() async throws {
        guard geteuid() == 0 else { throw ValidationError("bench cold starts its own workers, which need root") }
        try fetchWheels()
        let index = FileManager.default.temporaryDirectory.appendingPathComponent("pipsqueak-bench-index-\(getpid())")
        try FileManager.default.createDirectory(at: index, withIntermediateDirectories: true)
        try "<!DOCTYPE html><html><body></body></html>\n".write(to: index.appendingPathComponent("index.html"), atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: index) }
        let common = ["--index-url", "file://\(index.path)", "--find-links", wheels]
        var results: [(package: String, rows: [Row], memory: String)] = []
        for package in packages {
            results.append(try await measure(package, common: common))
        }
        print("")
        print("cold starts: \(handlers) distinct handlers per package, each invoked once; client latency through HTTP (runc: wall time of runc run)")
        for result in results {
            print("")
            print("\(result.package)".padding(toLength: 46, withPad: " ", startingAt: 0) + "median ms     p99 ms   median vs import")
            let base = result.rows.first?.median ?? 1
            for row in result.rows {
                print(row.label.padding(toLength: 46, withPad: " ", startingAt: 0)
                      + String(format: "%9.2f %10.2f %12.1fx", row.median, row.p99, row.median / base) + (row.note.isEmpty ? "" : "  " + row.note))
            }
            print(result.memory)
        }
    }

    struct Row {
        var label: String
        var median: Double
        var p99: Double
        var note = ""
    }

    /// Downloads the packages' wheels once (binary only, so no package code runs on the host).
    private func fetchWheels() throws {
        try FileManager.default.createDirectory(atPath: wheels, withIntermediateDirectories: true)
        let present = (try? FileManager.default.contentsOfDirectory(atPath: wheels)) ?? []
        let missing = packages.filter { name in !present.contains { $0.lowercased().hasPrefix(name.lowercased() + "-") } }
        guard !missing.isEmpty else { return }
        FileHandle.standardError.write(Data("downloading wheels of \(missing.joined(separator: ", ")) into \(wheels)…\n".utf8))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-m", "pip", "download", "--only-binary=:all:", "--disable-pip-version-check", "--quiet", "--dest", wheels] + missing
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CLIError("pip download of \(missing) failed") }
    }

    private func handlerCode(_ package: String, _ number: Int) -> String {
        let module = package == "pillow" ? "PIL" : package.replacingOccurrences(of: "-", with: "_")
        return "import \(module)\n\n# handler \(number)\ndef f(event):\n    return \(module).__version__\n"
    }

    private func measure(_ package: String, common: [String]) async throws -> (package: String, rows: [Row], memory: String) {
        let log = FileHandle.standardError
        let tree = package == "numpy" ? "numpy" : "numpy;\(package)"
        var rows: [Row] = []

        log.write(Data("\(package): worker with the import cache (tree \(tree))…\n".utf8))
        let withCache = try BenchWorker(arguments: common + ["--import-cache-tree", tree, "--prepared-sandboxes", String(max(64, handlers + 8))],
                                        label: "import")
        defer { withCache.remove() }
        let names = try await deployAll(package, to: withCache)
        try await waitUntilReady(withCache, package: package, prepared: min(handlers, max(64, handlers + 8)))
        let (imported, kinds) = try await invokeEach(names, on: withCache)
        rows.append(Row(label: "import cache on (fork of a \(package) zygote)", median: imported.median, p99: imported.p99,
                        note: kinds == ["import"] ? "" : "starts: \(kinds.sorted().joined(separator: ","))"))
        let memory = try await memoryReport(withCache, package: package)

        log.write(Data("\(package): worker without the import cache…\n".utf8))
        let withoutCache = try BenchWorker(arguments: common + ["--import-cache-mb", "0"], label: "fresh")
        defer { withoutCache.remove() }
        let freshNames = try await deployAll(package, to: withoutCache)
        let (fresh, freshKinds) = try await invokeEach(freshNames, on: withoutCache)
        rows.append(Row(label: "import cache off (new interpreter + import)", median: fresh.median, p99: fresh.p99,
                        note: freshKinds == ["fresh"] ? "" : "starts: \(freshKinds.sorted().joined(separator: ","))"))

        if runcStarts > 0 {
            if let runc = RuncBaseline.find() {
                log.write(Data("\(package): runc baseline (\(runcStarts) cold starts)…\n".utf8))
                let record = try await withCache.client.send(.GET, "/handlers/\(names[0])").json as? [String: Any]
                let sites = ((record?["packages"] as? [[String: Any]]) ?? []).compactMap { item -> URL? in
                    guard let name = item["name"] as? String, let version = item["version"] as? String else { return nil }
                    return withCache.siteDirectory("\(name)==\(version)")
                }
                let baseline = try RuncBaseline(runc: runc, handler: handlerCode(package, 0), sites: sites)
                defer { baseline.remove() }
                var samples: [Double] = []
                for number in 0..<runcStarts { samples.append(try baseline.coldStart(number).seconds * 1000) }
                let stats = Stats(samples)
                rows.append(Row(label: "runc run (OCI bundle, \(package) baked in)", median: stats.median, p99: stats.p99))
            } else {
                rows.append(Row(label: "runc run", median: .nan, p99: .nan, note: "runc not found: apt-get install runc"))
            }
        }
        return (package, rows, memory)
    }

    private func deployAll(_ package: String, to worker: BenchWorker) async throws -> [String] {
        var names: [String] = []
        for number in 0..<handlers {
            let name = "\(package)-\(number)"
            let archive = try HandlerArchive.gzipTar(files: [("f.py", Array(handlerCode(package, number).utf8)),
                                                            ("requirements.txt", Array("\(package)\n".utf8))])
            let reply = try await worker.client.send(.PUT, "/handlers/\(name)", body: archive, contentType: "application/gzip")
            guard reply.status == 201 else { throw CLIError("deploy \(name): \(reply.errorMessage)") }
            names.append(name)
        }
        return names
    }

    /// Waits for the package's zygote and for the sandboxes prepared ahead of the cold starts.
    private func waitUntilReady(_ worker: BenchWorker, package: String, prepared: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(300)
        while ContinuousClock.now < deadline {
            let status = try await worker.client.send(.GET, "/status").json as? [String: Any] ?? [:]
            let zygotes = status["zygotes"] as? [[String: Any]] ?? []
            let ready = zygotes.contains { node in
                node["alive"] as? Bool == true && ((node["packages"] as? [String]) ?? []).contains { $0.hasPrefix(PackageRef.normalize(package) + "==") }
            }
            if ready, (status["prepared_sandboxes"] as? Int ?? 0) >= prepared { return }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw CLIError("the \(package) zygote or its prepared sandboxes were not ready within 5 minutes")
    }

    private func invokeEach(_ names: [String], on worker: BenchWorker) async throws -> (Stats, Set<String>) {
        let client = worker.client
        _ = try await client.send(.GET, "/healthz")
        var samples: [Double] = []
        var kinds = Set<String>()
        for name in names {
            let started = ContinuousClock.now
            let reply = try await client.send(.POST, "/run/\(name)", body: Array("{}".utf8))
            let elapsed = (ContinuousClock.now - started).inSeconds * 1000
            guard reply.status == 200 else { throw CLIError("\(name): \(reply.errorMessage)") }
            samples.append(elapsed)
            kinds.insert(reply.headers["X-Pipsqueak-Start"].first ?? "?")
        }
        return (Stats(samples), kinds)
    }

    private func memoryReport(_ worker: BenchWorker, package: String) async throws -> String {
        let instances = try await worker.client.send(.GET, "/instances").json as? [[String: Any]] ?? []
        let forked = instances.filter { $0["start"] as? String == "import" }
        let privates = forked.compactMap { ($0["memory"] as? [String: Any])?["private"] as? Int }.map { Double($0) / 1_048_576 }
        let zygotes = try await worker.client.send(.GET, "/zygotes").json as? [[String: Any]] ?? []
        let zygote = zygotes.last { ((($0["packages"] as? [String]) ?? []).contains { $0.hasPrefix(PackageRef.normalize(package) + "==") }) }
        let zygoteMemory = zygote?["memory"] as? [String: Any] ?? [:]
        let stats = Stats(privates)
        return String(format: "memory: private per import-tier instance median %.2f MiB, max %.2f MiB (%d instances); %@ zygote rss %.1f MiB, private %.1f MiB",
                      stats.median, privates.max() ?? 0, privates.count, package,
                      Double(zygoteMemory["rss"] as? Int ?? 0) / 1_048_576, Double(zygoteMemory["private"] as? Int ?? 0) / 1_048_576)
    }

    struct Stats {
        var median: Double
        var p99: Double
        init(_ samples: [Double]) {
            let sorted = samples.sorted()
            median = sorted.isEmpty ? .nan : sorted[sorted.count / 2]
            p99 = sorted.isEmpty ? .nan : sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.99).rounded(.up)) - 1)]
        }
    }
}
