import Foundation

/// A configurable distribution for one package characteristic.
///
/// Samples are clamped to `[minimum, maximum]` when those bounds are set.
public struct Distribution: Sendable, Equatable {
    /// The shape of a distribution and its parameters.
    public enum Shape: Sendable, Equatable {
        /// Always the same value.
        case constant(Double)
        /// Uniform on `[low, high]`.
        case uniform(low: Double, high: Double)
        /// Gaussian with the given mean and standard deviation.
        case normal(mean: Double, stddev: Double)
        /// Log-normal given by its median (`exp(mu)`) and `sigma` of the underlying normal.
        case lognormal(median: Double, sigma: Double)
        /// Zipf over the ranks `1...count` with exponent `s`: P(k) ∝ 1/k^s.
        case zipf(s: Double, count: Int)
        /// Draws uniformly from a list of observed values.
        case empirical([Double])
    }

    public var shape: Shape
    public var minimum: Double?
    public var maximum: Double?

    public init(_ shape: Shape, minimum: Double? = nil, maximum: Double? = nil) {
        self.shape = shape
        self.minimum = minimum
        self.maximum = maximum
    }

    /// Shorthand for a constant distribution.
    public static func constant(_ value: Double) -> Distribution { Distribution(.constant(value)) }

    /// Applies the bounds to a raw sample.
    func clamp(_ value: Double) -> Double {
        var v = value
        if let minimum { v = Swift.max(v, minimum) }
        if let maximum { v = Swift.min(v, maximum) }
        return v
    }

    /// The distribution's mean before clamping, where it has a closed form.
    public var unclampedMean: Double {
        switch shape {
        case .constant(let v): return v
        case .uniform(let low, let high): return (low + high) / 2
        case .normal(let mean, _): return mean
        case .lognormal(let median, let sigma): return median * exp(sigma * sigma / 2)
        case .zipf(let s, let count):
            let weights = (1...Swift.max(count, 1)).map { pow(Double($0), -s) }
            let total = weights.reduce(0, +)
            return zip(1..., weights).reduce(0) { $0 + Double($1.0) * $1.1 } / total
        case .empirical(let values): return values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
        }
    }
}
