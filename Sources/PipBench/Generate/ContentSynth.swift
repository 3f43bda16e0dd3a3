/// Synthesises file contents of an exact size whose deflate ratio approaches a target.
///
/// Text is a mix of random lines (high-entropy, ratio about `textHigh`) and lines repeated from a small
/// set of valid Python statements (ratio about `textLow`); binary payloads mix random and zero blocks.
/// The share of random lines is chosen so the mix reproduces the target ratio.
enum ContentSynth {
    /// (share of random lines or blocks, deflate ratio) measured with zlib's default level on 400 kB samples;
    /// the mix is not linear, so the share for a target ratio is interpolated from these points.
    static let textCalibration: [(share: Double, ratio: Double)] = [
        (0, 0.022), (0.1, 0.123), (0.2, 0.209), (0.3, 0.294), (0.4, 0.379),
        (0.5, 0.450), (0.6, 0.515), (0.8, 0.644), (1.0, 0.751),
    ]
    static let binaryCalibration: [(share: Double, ratio: Double)] = [
        (0, 0.001), (0.15, 0.165), (0.3, 0.309), (0.5, 0.513), (1.0, 1.0),
    ]

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.".utf8)
    private static let boilerplate = [
        "_pipbench_table = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]",
        "_pipbench_limit = 4096",
        "_pipbench_names = ('alpha', 'beta', 'gamma', 'delta', 'epsilon')",
        "_pipbench_flag = _pipbench_limit > 1024 and not False",
        "_pipbench_scale = 1.0 / 3.0",
        "_pipbench_mapping = dict(a=1, b=2, c=3, d=4)",
        "_pipbench_text = 'the quick brown fox jumps over the lazy dog'",
        "_pipbench_total = sum(range(16))",
    ].map { Array($0.utf8) }

    /// Text of exactly `size` bytes; for `.python` every line is valid Python, for `.json` the whole is a JSON document.
    static func text(size: Int, ratio: Double, kind: PackagePlan.FileKind, header: String, using rng: inout SeededGenerator) -> [UInt8] {
        let base = rng.fork("text")
        return tuned(size: size, ratio: ratio, start: share(ratio, textCalibration)) { share in
            var attempt = base
            return mixText(size: size, randomShare: share, kind: kind, header: header, using: &attempt)
        }
    }

    /// Small files deflate worse than the 400 kB calibration samples (fewer repeats, fixed overhead), so files of
    /// 1–256 KiB are re-synthesised a few times, bisecting the random share until deflate hits the target.
    static func tuned(size: Int, ratio: Double, start: Double, synthesise: (Double) -> [UInt8]) -> [UInt8] {
        var share = start
        var best = synthesise(share)
        guard size >= 1024, size <= 262_144 else { return best }  // larger files match the calibration
        var bestError = Double.infinity
        var low = 0.0, high = 1.0
        for _ in 0..<6 {
            let candidate = share == start && bestError.isInfinite ? best : synthesise(share)
            let achieved = Double((try? Deflate.compress(candidate).count) ?? candidate.count) / Double(candidate.count)
            let error = abs(achieved - ratio)
            if error < bestError { best = candidate; bestError = error }
            if error < 0.01 { break }
            if achieved > ratio { high = share } else { low = share }
            share = (low + high) / 2
        }
        return best
    }

    private static func mixText(size: Int, randomShare: Double, kind: PackagePlan.FileKind, header: String,
                                using rng: inout SeededGenerator) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(size + 80)
        let isJSON = kind == .json
        out += Array((isJSON ? "{\"pipbench\": [\n" : "# " + header + "\n").utf8)
        let footer: [UInt8] = isJSON ? Array("\"\"]}\n".utf8) : []
        let prefix: [UInt8] = isJSON ? [0x22] : (kind == .python ? [0x23, 0x20] : [])
        let suffix: [UInt8] = isJSON ? Array("\",\n".utf8) : [0x0A]
        while out.count + footer.count < size {
            if rng.nextUnit() < randomShare {
                out += prefix
                appendRandom(&out, count: 60, using: &rng)
                out += suffix
            } else {
                let line = boilerplate[Int(rng.next() % UInt64(boilerplate.count))]
                if isJSON {
                    out += prefix
                    out += line.filter { $0 != 0x27 }
                    out += suffix
                } else {
                    out += line
                    out.append(0x0A)
                }
            }
        }
        return finish(&out, size: size, footer: footer, isJSON: isJSON)
    }

    /// Binary payload of exactly `size` bytes, starting with an ELF magic like a shared object.
    static func binary(size: Int, ratio: Double, using rng: inout SeededGenerator) -> [UInt8] {
        let base = rng.fork("binary")
        return tuned(size: size, ratio: ratio, start: share(ratio, binaryCalibration)) { share in
            var attempt = base
            return mixBinary(size: size, randomShare: share, using: &attempt)
        }
    }

    private static func mixBinary(size: Int, randomShare: Double, using rng: inout SeededGenerator) -> [UInt8] {
        var out: [UInt8] = [0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0]
        out.reserveCapacity(size + 256)
        while out.count < size {
            if rng.nextUnit() < randomShare {
                for _ in 0..<32 {
                    let word = rng.next()
                    for shift in stride(from: 0, to: 64, by: 8) { out.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
                }
            } else {
                out += repeatElement(0, count: 256)
            }
        }
        out.removeLast(out.count - size)
        return out
    }

    /// Inverse of the calibration curve, by linear interpolation between its points.
    static func share(_ ratio: Double, _ curve: [(share: Double, ratio: Double)]) -> Double {
        guard ratio > curve[0].ratio else { return 0 }
        for (a, b) in zip(curve, curve.dropFirst()) where ratio <= b.ratio {
            return a.share + (b.share - a.share) * (ratio - a.ratio) / (b.ratio - a.ratio)
        }
        return 1
    }

    private static func appendRandom(_ out: inout [UInt8], count: Int, using rng: inout SeededGenerator) {
        var remaining = count
        while remaining > 0 {
            var word = rng.next()
            for _ in 0..<Swift.min(10, remaining) {
                out.append(alphabet[Int(word & 63)])
                word >>= 6
            }
            remaining -= 10
        }
    }

    /// Cuts to `size`, keeping the last line valid (a comment in Python, a string in JSON).
    private static func finish(_ out: inout [UInt8], size: Int, footer: [UInt8], isJSON: Bool) -> [UInt8] {
        let budget = Swift.max(size - footer.count, 0)
        if out.count > budget {
            out.removeLast(out.count - budget)
            if let lastNewline = out.lastIndex(of: 0x0A) {
                let tail = out.count - lastNewline - 1
                out.removeLast(tail)
                let filler = isJSON ? Swift.max(tail - 3, 0) : Swift.max(tail - 1, 0)
                if isJSON, tail >= 3 {
                    out.append(0x22); out += repeatElement(0x78, count: filler); out += Array("\",".utf8)
                } else if !isJSON, tail >= 1 {
                    out.append(0x23); out += repeatElement(0x78, count: filler)
                } else {
                    out += repeatElement(0x20, count: tail)
                }
                if out.count < budget { out.append(0x0A) }
            }
        }
        out += footer
        if out.count < size { out += repeatElement(0x0A, count: size - out.count) }
        if out.count > size { out.removeLast(out.count - size) }
        return out
    }
}
