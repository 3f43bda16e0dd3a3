/// Measures one `import` in a fresh interpreter: wall seconds, CPU seconds and resident-set growth.
public enum ImportProbe {
    public struct Measurement: Sendable {
        public var seconds: Double
        public var cpuSeconds: Double
        public var memoryBytes: Int
    }

    public static func measure(module: String, pythonPath: String?, python: String = "/usr/bin/python3",
                               environment: [String: String] = ["PATH": "/usr/bin:/bin", "PYTHONNOUSERSITE": "1"]) throws -> Measurement? {
        let script = """
            import time
            def rss():
                return int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) * 1024
            m = rss(); t = time.perf_counter(); c = time.process_time()
            import \(module)
            print("PIPBENCH", time.perf_counter() - t, time.process_time() - c, rss() - m)
            """
        var env = environment
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        if let pythonPath { env["PYTHONPATH"] = pythonPath }
        let result = try ProcessRunner.run(python, ["-c", script], environment: env)
        guard result.status == 0,
              let line = result.output.split(whereSeparator: \.isNewline).last(where: { $0.hasPrefix("PIPBENCH ") }) else { return nil }
        let numbers = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard numbers.count == 3 else { return nil }
        return Measurement(seconds: numbers[0], cpuSeconds: numbers[1], memoryBytes: Int(numbers[2]))
    }
}
