import NIOPosix

/// Runs blocking work (file trees, syscalls that sleep) on NIO's blocking thread pool, never on Swift's
/// cooperative pool, whose two threads on a small machine serve every request.
public enum BlockingWork {
    public static func run<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await NIOThreadPool.singleton.runIfActive(body)
    }

    /// For work whose errors are already folded into its result.
    public static func run<Result: Sendable>(_ body: @escaping @Sendable () -> Result) async -> Result {
        do {
            return try await NIOThreadPool.singleton.runIfActive(body)
        } catch {
            // The singleton pool is never shut down; run inline rather than lose the work.
            return body()
        }
    }
}
