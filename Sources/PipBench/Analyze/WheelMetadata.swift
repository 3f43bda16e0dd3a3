import Foundation

/// Reading core metadata (`METADATA` / `PKG-INFO`).
enum WheelMetadata {
    /// Names of unconditional `Requires-Dist` entries (extras and environment markers dropped), normalised.
    static func requirements(_ metadata: String) -> [String] {
        var names: [String] = []
        for line in metadata.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            if line.isEmpty { break }  // the body (description) starts after the first blank line
            guard line.hasPrefix("Requires-Dist:") else { continue }
            let value = line.dropFirst("Requires-Dist:".count).trimmingCharacters(in: .whitespaces)
            if let marker = value.firstIndex(of: ";"), value[marker...].contains("extra") { continue }
            let name = value.prefix { $0.isLetter || $0.isNumber || "-_.".contains($0) }
            if !name.isEmpty { names.append(SimpleIndex.normalize(String(name))) }
        }
        return names
    }

    static func field(_ name: String, in metadata: String) -> String? {
        for line in metadata.split(whereSeparator: \.isNewline) where line.hasPrefix(name + ":") {
            return line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }
}
