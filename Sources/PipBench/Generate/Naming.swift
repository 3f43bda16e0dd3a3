/// Pronounceable, unique, deterministic names for packages, modules and versions.
enum Naming {
    private static let onsets = ["b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "st", "tr", "pl"]
    private static let vowels = ["a", "e", "i", "o", "u", "ai", "ou"]
    static let moduleWords = [
        "core", "utils", "io", "parser", "client", "models", "compat", "config", "types", "errors",
        "helpers", "backend", "cache", "codec", "format", "schema", "plugins", "tasks", "api", "base",
    ]

    /// `prefix-word-0007`: the index keeps names unique, the word keeps them readable.
    static func projectName(prefix: String, index: Int, using rng: inout SeededGenerator) -> String {
        "\(prefix)-\(word(using: &rng))-\(String(index).leftPadded(to: 4))"
    }

    static func word(using rng: inout SeededGenerator) -> String {
        let syllables = 2 + Int(rng.next() % 2)
        return (0..<syllables).map { _ in
            onsets[Int(rng.next() % UInt64(onsets.count))] + vowels[Int(rng.next() % UInt64(vowels.count))]
        }.joined()
    }

    /// Release i: 1.0.0, 1.1.0, 1.2.0, 2.0.0, ...
    static func version(_ i: Int) -> String { "\(1 + i / 3).\(i % 3).0" }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
