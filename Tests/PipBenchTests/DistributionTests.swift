import Foundation
import Testing
@testable import PipBench

@Suite struct DistributionTests {
    private func samples(_ d: Distribution, _ n: Int = 20_000, seed: UInt64 = 3) -> [Double] {
        let sampler = Sampler(d)
        var rng = SeededGenerator(seed: seed)
        return (0..<n).map { _ in sampler.sample(using: &rng) }
    }

    private func mean(_ xs: [Double]) -> Double { xs.reduce(0, +) / Double(xs.count) }

    @Test func generatorIsDeterministicPerSeedAndStream() {
        var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42), c = SeededGenerator(seed: 42, stream: 1)
        let xs = (0..<5).map { _ in a.next() }
        #expect(xs == (0..<5).map { _ in b.next() })
        #expect(xs != (0..<5).map { _ in c.next() })
        #expect(SeededGenerator(seed: 1).fork("files", 2).fork("x").nextValue() == SeededGenerator(seed: 1).fork("files", 2).fork("x").nextValue())
        #expect(SeededGenerator(seed: 1).fork("files", 2).nextValue() != SeededGenerator(seed: 1).fork("files", 3).nextValue())
    }

    @Test func constantAndUniform() {
        #expect(samples(.constant(4), 10).allSatisfy { $0 == 4 })
        let u = samples(Distribution(.uniform(low: 2, high: 6)))
        #expect(u.allSatisfy { (2..<6).contains($0) })
        #expect(abs(mean(u) - 4) < 0.1)
    }

    @Test func normalMatchesMeanAndSpread() {
        let xs = samples(Distribution(.normal(mean: 10, stddev: 2)))
        let m = mean(xs)
        let sd = sqrt(xs.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(xs.count))
        #expect(abs(m - 10) < 0.1)
        #expect(abs(sd - 2) < 0.1)
    }

    @Test func lognormalMedianAndBounds() {
        let xs = samples(Distribution(.lognormal(median: 3000, sigma: 1), minimum: 100, maximum: 50_000)).sorted()
        #expect(abs(xs[xs.count / 2] - 3000) / 3000 < 0.05)
        #expect(xs.first! >= 100 && xs.last! <= 50_000)
    }

    @Test func zipfFavoursLowRanks() {
        let xs = samples(Distribution(.zipf(s: 1.2, count: 50)))
        let ones = xs.filter { $0 == 1 }.count, twos = xs.filter { $0 == 2 }.count
        #expect(xs.allSatisfy { (1...50).contains($0) && $0 == $0.rounded() })
        // P(1)/P(2) = 2^1.2 ≈ 2.30
        #expect(abs(Double(ones) / Double(twos) - pow(2, 1.2)) < 0.25)
    }

    @Test func empiricalOnlyReturnsListedValues() {
        let xs = samples(Distribution(.empirical([1, 5, 5, 9])))
        #expect(Set(xs) == [1, 5, 9])
        #expect(abs(Double(xs.filter { $0 == 5 }.count) / Double(xs.count) - 0.5) < 0.03)
    }

    @Test func rankWeightsAreDecreasing() {
        var rng = SeededGenerator(seed: 1)
        let zipf = Sampler(Distribution(.zipf(s: 1, count: 10))).rankWeights(count: 4, using: &rng)
        #expect(zipf == [1, 0.5, 1.0 / 3, 0.25])
        let other = Sampler(Distribution(.uniform(low: 0, high: 1))).rankWeights(count: 20, using: &rng)
        #expect(other == other.sorted(by: >))
    }
}

extension SeededGenerator {
    fileprivate func nextValue() -> UInt64 {
        var copy = self
        return copy.next()
    }
}
