import Foundation

/// Draws samples from a `Distribution`, with any tables it needs precomputed.
public struct Sampler: Sendable {
    public let distribution: Distribution
    private let cumulative: [Double]

    public init(_ distribution: Distribution) {
        self.distribution = distribution
        if case .zipf(let s, let count) = distribution.shape {
            var running = 0.0
            cumulative = (1...Swift.max(count, 1)).map { rank in
                running += pow(Double(rank), -s)
                return running
            }
        } else {
            cumulative = []
        }
    }

    /// One sample, clamped to the distribution's bounds.
    public func sample(using rng: inout SeededGenerator) -> Double {
        distribution.clamp(raw(using: &rng))
    }

    /// One sample rounded to the nearest integer (then clamped).
    public func sampleInt(using rng: inout SeededGenerator) -> Int {
        let value = sample(using: &rng).rounded()
        return value.isFinite ? Int(Swift.max(Swift.min(value, 1e15), -1e15)) : 0
    }

    private func raw(using rng: inout SeededGenerator) -> Double {
        switch distribution.shape {
        case .constant(let v):
            return v
        case .uniform(let low, let high):
            return low + (high - low) * rng.nextUnit()
        case .normal(let mean, let stddev):
            return mean + stddev * Self.standardNormal(using: &rng)
        case .lognormal(let median, let sigma):
            return median * exp(sigma * Self.standardNormal(using: &rng))
        case .zipf:
            let target = rng.nextUnit() * cumulative[cumulative.count - 1]
            var low = 0, high = cumulative.count - 1
            while low < high {
                let mid = (low + high) / 2
                if cumulative[mid] > target { high = mid } else { low = mid + 1 }
            }
            return Double(low + 1)
        case .empirical(let values):
            guard !values.isEmpty else { return 0 }
            return values[Int(rng.next() % UInt64(values.count))]
        }
    }

    /// Box-Muller transform.
    static func standardNormal(using rng: inout SeededGenerator) -> Double {
        let u1 = Swift.max(rng.nextUnit(), Double.leastNonzeroMagnitude)
        let u2 = rng.nextUnit()
        return sqrt(-2 * log(u1)) * cos(2 * Double.pi * u2)
    }

    /// Weights for `count` items ranked by popularity: Zipf gives 1/rank^s,
    /// every other shape gives independent samples sorted in decreasing order.
    public func rankWeights(count: Int, using rng: inout SeededGenerator) -> [Double] {
        if case .zipf(let s, _) = distribution.shape {
            return (0..<count).map { pow(Double($0 + 1), -s) }
        }
        return (0..<count).map { _ in Swift.max(sample(using: &rng), 0) }.sorted(by: >)
    }
}
