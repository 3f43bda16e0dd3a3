import Dispatch
import Foundation
import Synchronization

/// Runs an operation that Ctrl-C (SIGINT) cancels instead of killing the process, so a partial report can be written.
final class InterruptSignal: Sendable {
    private let state = Mutex(false)

    var fired: Bool { state.withLock { $0 } }

    /// Runs `operation`; on SIGINT it is cancelled and `nil` is returned.
    func run<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T? {
        signal(SIGINT, SIG_IGN)
        defer { signal(SIGINT, SIG_DFL) }
        let task = Task { try await operation() }
        let source = DispatchSource.makeSignalSource(signal: SIGINT)
        source.setEventHandler { [self] in
            state.withLock { $0 = true }
            FileHandle.standardError.write(Data("\ninterrupted: stopping and writing the partial report\n".utf8))
            task.cancel()
        }
        source.resume()
        defer { source.cancel() }
        do {
            let value = try await task.value
            return fired ? nil : value
        } catch is CancellationError {
            return nil
        }
    }
}
