/// Errors PipBench reports to the user.
public enum PipBenchError: Error, CustomStringConvertible, Equatable {
    case invalidSpec(String)
    case invalidArchive(String)
    case io(String)
    case worker(String)
    case usage(String)
    /// A sandboxed install or import probe failed.
    case measurement(String)

    public var description: String {
        switch self {
        case .invalidSpec(let m): return "invalid spec: \(m)"
        case .invalidArchive(let m): return "invalid archive: \(m)"
        case .io(let m): return "I/O error: \(m)"
        case .worker(let m): return "worker error: \(m)"
        case .usage(let m): return m
        case .measurement(let m): return m
        }
    }
}
