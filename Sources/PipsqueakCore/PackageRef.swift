/// One distribution at one exact version, with its name normalized as PEP 503 says.
public struct PackageRef: Hashable, Codable, Sendable, Comparable, CustomStringConvertible {
    public let name: String
    public let version: String

    public init(name: String, version: String) {
        self.name = Self.normalize(name)
        self.version = version
    }

    /// PEP 503: lower case, and every run of `-`, `_` and `.` becomes one `-`.
    public static func normalize(_ name: String) -> String {
        var result = ""
        var inSeparatorRun = false
        for character in name.lowercased() {
            if character == "-" || character == "_" || character == "." {
                if !inSeparatorRun { result.append("-") }
                inSeparatorRun = true
            } else {
                result.append(character)
                inSeparatorRun = false
            }
        }
        return result
    }

    /// A version string safe to use as a directory name.
    public var isSafeForPaths: Bool {
        !version.isEmpty && version != "." && version != ".." && version.allSatisfy { $0.isLetter || $0.isNumber || "._+-!".contains($0) }
            && name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" }
    }

    public var description: String { "\(name)==\(version)" }
    public static func < (lhs: Self, rhs: Self) -> Bool { (lhs.name, lhs.version) < (rhs.name, rhs.version) }
}
