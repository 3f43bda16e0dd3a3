import ArgumentParser
import PipBench

/// Options for the sandboxes that install and import packages during a study.
struct SandboxOptions: ParsableArguments {
    @Option(name: .customLong("sandbox-helper"), help: "The pipsqueak-sandbox helper (default: next to pipbench).")
    var helper: String?

    @Option(name: .customLong("sandbox-memory-mb"), help: "Memory limit of each sandboxed step.")
    var memoryMB = 2048

    @Option(name: .customLong("sandbox-timeout"), help: "Seconds before a sandboxed step is killed.")
    var timeoutSeconds: Double = 900

    func make() throws -> StudySandbox {
        var settings = StudySandbox.Settings()
        settings.helperPath = helper ?? ""
        settings.memoryMB = memoryMB
        settings.timeoutSeconds = timeoutSeconds
        return try StudySandbox(settings: settings)
    }
}
