/// YAML/JSON forms of a distribution:
/// a bare number (constant), a list of numbers (empirical), or a mapping with `kind`:
/// `{kind: lognormal, median: 3000, sigma: 1.3, min: 64, max: 4194304}`.
extension Distribution: Codable {
    enum Key: String, CodingKey {
        case kind, value, low, high, mean, stddev, median, sigma, s, count, values, min, max
    }

    public init(from decoder: Decoder) throws {
        if let single = try? decoder.singleValueContainer() {
            if let value = try? single.decode(Double.self) {
                self.init(.constant(value))
                return
            }
            if let values = try? single.decode([Double].self) {
                self.init(.empirical(values))
                return
            }
        }
        let c = try decoder.container(keyedBy: Key.self)
        let kind = try c.decode(String.self, forKey: .kind)
        let shape: Shape
        switch kind {
        case "constant":
            shape = .constant(try c.decode(Double.self, forKey: .value))
        case "uniform":
            shape = .uniform(low: try c.decode(Double.self, forKey: .low), high: try c.decode(Double.self, forKey: .high))
        case "normal":
            shape = .normal(mean: try c.decode(Double.self, forKey: .mean), stddev: try c.decode(Double.self, forKey: .stddev))
        case "lognormal":
            shape = .lognormal(median: try c.decode(Double.self, forKey: .median), sigma: try c.decode(Double.self, forKey: .sigma))
        case "zipf":
            shape = .zipf(s: try c.decode(Double.self, forKey: .s), count: try c.decodeIfPresent(Int.self, forKey: .count) ?? 1000)
        case "empirical":
            shape = .empirical(try c.decode([Double].self, forKey: .values))
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .kind, in: c,
                debugDescription: "unknown distribution kind '\(kind)' (constant, uniform, normal, lognormal, zipf, empirical)")
        }
        try Self.validate(shape, codingPath: decoder.codingPath)
        self.init(shape, minimum: try c.decodeIfPresent(Double.self, forKey: .min), maximum: try c.decodeIfPresent(Double.self, forKey: .max))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        switch shape {
        case .constant(let v):
            try c.encode("constant", forKey: .kind)
            try c.encode(v, forKey: .value)
        case .uniform(let low, let high):
            try c.encode("uniform", forKey: .kind)
            try c.encode(low, forKey: .low)
            try c.encode(high, forKey: .high)
        case .normal(let mean, let stddev):
            try c.encode("normal", forKey: .kind)
            try c.encode(mean, forKey: .mean)
            try c.encode(stddev, forKey: .stddev)
        case .lognormal(let median, let sigma):
            try c.encode("lognormal", forKey: .kind)
            try c.encode(median, forKey: .median)
            try c.encode(sigma, forKey: .sigma)
        case .zipf(let s, let count):
            try c.encode("zipf", forKey: .kind)
            try c.encode(s, forKey: .s)
            try c.encode(count, forKey: .count)
        case .empirical(let values):
            try c.encode("empirical", forKey: .kind)
            try c.encode(values, forKey: .values)
        }
        try c.encodeIfPresent(minimum, forKey: .min)
        try c.encodeIfPresent(maximum, forKey: .max)
    }

    private static func validate(_ shape: Shape, codingPath: [CodingKey]) throws {
        let problem: String?
        switch shape {
        case .uniform(let low, let high) where high < low: problem = "uniform needs low <= high"
        case .normal(_, let stddev) where stddev < 0: problem = "normal needs stddev >= 0"
        case .lognormal(let median, let sigma) where median <= 0 || sigma < 0: problem = "lognormal needs median > 0 and sigma >= 0"
        case .zipf(let s, let count) where s <= 0 || count < 1: problem = "zipf needs s > 0 and count >= 1"
        case .empirical(let values) where values.isEmpty: problem = "empirical needs at least one value"
        default: problem = nil
        }
        if let problem {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: problem))
        }
    }
}
