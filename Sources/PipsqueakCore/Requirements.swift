import Foundation

/// A handler's `requirements.txt`, reduced to requirement lines pip resolves.
public enum Requirements {
    /// Drops comments and blank lines; refuses options that would reach outside the configured index or
    /// the sandbox (`-e`, `-r`, `--index-url`, local paths, …).
    public static func parse(_ text: String) throws(PipsqueakError) -> [String] {
        var lines: [String] = []
        for raw in text.split(whereSeparator: \.isNewline) {
            var line = String(raw)
            if let hash = line.range(of: " #") ?? (line.hasPrefix("#") ? line.range(of: "#") : nil) {
                line = String(line[..<hash.lowerBound])
            }
            line = line.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            guard let first = line.first, first.isLetter || first.isNumber else {
                throw PipsqueakError(.invalidRequest,
                                     "requirements.txt line '\(line)' is not supported: only requirement specifiers (name, extras, version, markers) are allowed")
            }
            if line.contains("://") || line.contains(" @ ") {
                throw PipsqueakError(.invalidRequest, "requirements.txt line '\(line)' points at a URL; use the worker's index instead")
            }
            lines.append(line)
        }
        return lines
    }
}
