/// A small, fast, deterministic PRNG (xoshiro256**), seeded through SplitMix64.
///
/// The same seed and stream always yield the same sequence on every platform,
/// which is what makes `pipbench generate` reproducible.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// Creates a generator for `seed`; distinct `stream` values give independent sequences.
    public init(seed: UInt64, stream: UInt64 = 0) {
        var mixer = SplitMix64(state: seed ^ (stream &* 0x9E37_79B9_7F4A_7C15))
        s0 = mixer.next()
        s1 = mixer.next()
        s2 = mixer.next()
        s3 = mixer.next()
        if s0 | s1 | s2 | s3 == 0 { s0 = 1 }
    }

    /// Derives an independent generator for a named sub-task, e.g. `fork("files", index)`.
    public func fork(_ label: String, _ index: Int = 0) -> SeededGenerator {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in label.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3
        }
        return SeededGenerator(seed: s0 ^ hash, stream: UInt64(bitPattern: Int64(index)) &+ s1)
    }

    public mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    /// A uniform double in [0, 1).
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}

/// SplitMix64, used only to expand a seed into xoshiro state.
struct SplitMix64 {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension SeededGenerator {
    /// Up to `count` distinct indices, drawn without replacement with probability proportional to `weights`.
    mutating func distinctIndices(count: Int, weights: [Double]) -> [Int] {
        var remaining = weights
        var chosen: [Int] = []
        for _ in 0..<max(count, 0) {
            let total = remaining.reduce(0, +)
            guard total > 0 else { break }
            var target = nextUnit() * total
            var pick = remaining.count - 1
            for (j, w) in remaining.enumerated() where w > 0 {
                if target < w { pick = j; break }
                target -= w
            }
            chosen.append(pick)
            remaining[pick] = 0
        }
        return chosen
    }
}
