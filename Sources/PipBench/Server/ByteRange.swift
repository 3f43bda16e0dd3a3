/// A single `Range: bytes=...` request (RFC 9110), resolved against a file size.
public enum ByteRange: Equatable, Sendable {
    /// Serve the whole file (no header, or a form this server does not honour, such as several ranges).
    case whole
    /// Serve `lower...upper` with 206.
    case partial(lower: Int, upper: Int)
    /// Nothing of the file is in range: 416.
    case unsatisfiable

    public static func parse(_ header: String?, size: Int) -> ByteRange {
        guard let header, header.hasPrefix("bytes=") else { return .whole }
        let spec = header.dropFirst("bytes=".count).trimmingCharacters(in: .whitespaces)
        guard !spec.contains(",") else { return .whole }
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return .whole }
        if parts[0].isEmpty {
            guard let suffix = Int(parts[1]), suffix >= 0 else { return .whole }
            guard suffix > 0, size > 0 else { return .unsatisfiable }
            return .partial(lower: max(size - suffix, 0), upper: size - 1)
        }
        guard let lower = Int(parts[0]), lower >= 0 else { return .whole }
        let upper = parts[1].isEmpty ? size - 1 : (Int(parts[1]) ?? -1)
        guard upper >= lower || parts[1].isEmpty else { return .whole }
        guard lower < size else { return .unsatisfiable }
        return .partial(lower: lower, upper: min(upper, size - 1))
    }
}
