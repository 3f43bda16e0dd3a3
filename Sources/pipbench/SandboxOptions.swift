import ArgumentParser
import Dispatch
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

/// While alive, Ctrl-C or SIGTERM kills the study's running sandboxes and stops new ones; the command then
/// cleans up and exits 130 (`checkInterrupted`), so an interrupted study leaves nothing behind.
final class StudyInterruptGuard {
    private let sources: [any DispatchSourceSignal]

    init(_ sandbox: StudySandbox) {
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                FileHandle.standardError.write(Data("\ninterrupted: stopping the study's sandboxes\n".utf8))
                sandbox.interrupt()
            }
            source.resume()
            return source
        }
    }

    /// Throws exit code 130 once the study was interrupted.
    static func checkInterrupted(_ sandbox: StudySandbox?) throws {
        if sandbox?.wasInterrupted == true { throw ExitCode(130) }
    }

    deinit {
        for source in sources { source.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}

extension Result where Failure == any Error {
    /// Runs an async throwing body, capturing its outcome.
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
