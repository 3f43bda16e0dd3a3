import Dispatch
import Foundation
import Synchronization

/// Turns Ctrl-C (SIGINT) into cancellation of the current operation instead of killing the process,
/// so a partial report can still be written. One signal source serves the whole command.
final class InterruptSignal: @unchecked Sendable {  // `source` is only touched in init and deinit.
    private struct State {
        var fired = false
        var current: (@Sendable () -> Void)?
    }

    private let state = Mutex(State())
    private let source: any DispatchSourceSignal

    init() {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [unowned self] in
            let cancel = self.state.withLock { s -> (@Sendable () -> Void)? in
                s.fired = true
                return s.current
            }
            FileHandle.standardError.write(Data("\ninterrupted: stopping and writing the partial report\n".utf8))
            cancel?()
        }
        source.resume()
    }

    deinit {
        source.cancel()
        signal(SIGINT, SIG_DFL)
    }

    var fired: Bool { state.withLock { $0.fired } }

    /// Runs `operation`; on SIGINT it is cancelled and `nil` is returned.
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
