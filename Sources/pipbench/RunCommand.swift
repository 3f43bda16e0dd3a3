import ArgumentParser
import Foundation
import PipBench

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Deploy handlers that import generated packages to a Pipsqueak worker and drive requests at them.",
        discussion: """
            Handlers' imports follow the packages' popularity. Open loop sends Poisson arrivals at --rate; closed loop keeps
            --concurrency requests in flight. --duration and --requests bound the run; Ctrl-C stops it and still writes the report.
            Latencies are recorded per X-Pipsqueak-Start tier in HdrHistograms; results go to OUT/report.json and OUT/report.html.
            """
    )

    @Option(help: "Worker base URL.")
    var worker = "http://127.0.0.1:5000"

    @Option(help: "Workload YAML (see docs/pipbench.md); options below override it.")
    var workload: String?

    @Option(help: "Generated package tree (with pipbench.json); overrides the workload's `packages`.")
    var packages: String?

    @Option(help: "Number of handlers.")
    var handlers: Int?

    @Option(help: "open (Poisson arrivals) or closed (fixed concurrency).")
    var mode: Workload.Mode?

    @Option(help: "Open loop: requests per second.")
    var rate: Double?

    @Option(help: "Closed loop: concurrent clients.")
    var concurrency: Int?

    @Option(help: "Stop after this many seconds.")
    var duration: Double?

    @Option(help: "Stop after this many requests.")
    var requests: Int?

    @Flag(name: .customLong("skip-deploy"), help: "Assume the handlers are already deployed.")
    var skipDeploy = false

    @Option(help: "Directory for report.json and report.html.")
    var out = "pipbench-report"

    func run() async throws {
        var w = try workload.map(Workload.load) ?? Workload()
        let base = workload.map { URL(fileURLWithPath: $0).deletingLastPathComponent() } ?? URL(fileURLWithPath: ".")
        var packageDir = w.packages.hasPrefix("/") ? URL(fileURLWithPath: w.packages) : base.appendingPathComponent(w.packages)
        if let packages { packageDir = URL(fileURLWithPath: packages) }
        if let handlers { w.handlers = handlers }
        if let mode { w.mode = mode }
        if let rate { w.rate = rate }
        if let concurrency { w.concurrency = concurrency }
        if let duration { w.durationSeconds = duration }
        if let requests { w.requests = requests }
        if skipDeploy { w.skipDeploy = true }
        try w.validate()

        let manifest = try BenchManifest.load(from: packageDir)
        let made = HandlerFactory(workload: w, packages: manifest.packages).handlers()
        let recorder = LatencyRecorder()
        let driver = LoadDriver(workerURL: worker, workload: w, handlers: made, recorder: recorder)
        let interrupt = InterruptSignal()
        if !w.skipDeploy {
            try await interrupt.run {
                try await driver.deploy { done, total in
                    FileHandle.standardError.write(Data("\rdeployed \(done)/\(total) handlers".utf8))
                }
            }
            FileHandle.standardError.write(Data("\n".utf8))
            if interrupt.fired { throw ExitCode(130) }
        }
        let startedAt = Date()
        let seconds = try await interrupt.run { await driver.drive() } ?? Date().timeIntervalSince(startedAt)
        let report = RunReport(recorder: recorder, workload: w, workerURL: worker, startedAt: startedAt,
                               duration: seconds, interrupted: interrupt.fired)
        let outDir = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: outDir, withIntermediateDirectories: true)
        try report.json().write(to: outDir.appendingPathComponent("report.json"))
        try Data(ReportHTML.render(report).utf8).write(to: outDir.appendingPathComponent("report.html"))
        print(report.text())
        print("report: \(outDir.appendingPathComponent("report.html").path)")
    }
}

extension Workload.Mode: ExpressibleByArgument {}
