import ArgumentParser
import Foundation
import PipBench

/// Options for the sandboxes that install and import packages during a study.
struct SandboxOptions: ParsableArguments {
    @Option(name: .customLong("sandbox-helper"), help: "The pipsqueak-sandbox helper (default: next to pipbench).")
    var helper: String?

    @Option(name: .customLong("sandbox-dir"), help: "Scratch directory for the sandboxes (default: a fresh one under $TMPDIR); removed afterwards.")
    var directory: String?

    @Option(name: .customLong("sandbox-memory-mb"), help: "Memory limit of each sandboxed step.")
    var memoryMB = 2048

    @Option(name: .customLong("sandbox-timeout"), help: "Seconds before a sandboxed step is killed.")
    var timeoutSeconds: Double = 900

    func make() throws -> StudySandbox {
        var settings = StudySandbox.Settings(stateDirectory: directory)
        settings.helperPath = helper ?? ""
        settings.memoryMB = memoryMB
        settings.timeoutSeconds = timeoutSeconds
        return try StudySandbox(settings: settings)
    }
}

extension StudySandbox {
    /// Ctrl-C or SIGTERM kills the study's running sandbox and refuses new ones; the command then cleans up
    /// and exits 130, so an interrupted study leaves nothing behind.
    func interruptOnSignals() -> InterruptSignal {
        InterruptSignal(signals: [SIGINT, SIGTERM], message: "stopping the study's sandboxes", onSignal: interrupt)
    }
}
