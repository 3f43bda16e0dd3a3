import Dispatch
import Foundation
import Synchronization

/// Turns Ctrl-C (and any other `signals`) into cancellation of the current operation instead of killing the
/// process, so a command can still clean up or write a partial report. One instance serves the whole command.
final class InterruptSignal: @unchecked Sendable {  // `sources` is only touched in init and deinit.
    private struct State {
        var fired = false
        var current: (@Sendable () -> Void)?
    }

    private let state = Mutex(State())
    private let signals: [Int32]
    private var sources: [any DispatchSourceSignal] = []

    /// `onSignal` runs first on every signal (for example, killing sandboxes); then the operation in `run` is cancelled.
    init(signals: [Int32] = [SIGINT], message: String = "stopping and writing the partial report",
         onSignal: @escaping @Sendable () -> Void = {}) {
        self.signals = signals
        sources = signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [unowned self] in
                let cancel = self.state.withLock { s -> (@Sendable () -> Void)? in
                    s.fired = true
                    return s.current
                }
                FileHandle.standardError.write(Data("\ninterrupted: \(message)\n".utf8))
                onSignal()
                cancel?()
            }
            source.resume()
            return source
        }
    }

    deinit {
        for source in sources { source.cancel() }
        for number in signals { signal(number, SIG_DFL) }
    }

    var fired: Bool { state.withLock { $0.fired } }

    /// Runs `operation`; on a signal it is cancelled and `nil` is returned.
    func run<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T? {
        let task = Task { try await operation() }
        let alreadyFired = state.withLock { s -> Bool in
            s.current = { task.cancel() }
            return s.fired
        }
        if alreadyFired { task.cancel() }
        defer { state.withLock { $0.current = nil } }
        do {
            let value = try await task.value
            return fired ? nil : value
        } catch is CancellationError {
            return nil
        }
    }
}

extension Result where Failure == any Error {
    /// Runs an async throwing body, capturing its outcome.
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
