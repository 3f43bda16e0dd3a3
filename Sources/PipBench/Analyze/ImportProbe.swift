import SandboxSetup

/// Measures one `import` in a fresh interpreter inside a sandbox: wall seconds, CPU seconds and resident-set growth.
public enum ImportProbe {
    public struct Measurement: Sendable, Equatable {
        public var seconds: Double
        public var cpuSeconds: Double
        public var memoryBytes: Int
    }

    /// Where `measure` mounts a site directory.
    public static let siteInSandbox = "/site"

    /// Imports `module` in a sandbox without network. With `site`, that directory is mounted read-only and put first
    /// on `sys.path`; with `systemPackages`, Debian's dist-packages stay visible (for distributions installed there).
    public static func measure(module: String, site: String?, systemPackages: Bool = false,
                               in sandbox: StudySandbox) async throws -> Result<Measurement, PipBenchError> {
        var binds: [SandboxConfiguration.Bind] = []
        var command = [sandbox.settings.python, "-c", script, module]
        if let site {
            binds.append(.init(source: site, target: siteInSandbox))
            command.append(siteInSandbox)
        }
        let step = try await sandbox.run("import-\(module)", command, binds: binds, network: false, systemPackages: systemPackages)
        if let failure = step.failure { return .failure(.measurement("import of \(module) failed: \(failure)")) }
        guard let measurement = parse(step.output) else { return .failure(.measurement("import of \(module) printed no measurement")) }
        return .success(measurement)
    }

    /// The probe: the module, then site directories as arguments; RSS and clocks around the import.
    static let script = """
        import importlib, sys, time
        sys.path[:0] = sys.argv[2:]
        def rss():
            return int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) * 1024
        m = rss(); t = time.perf_counter(); c = time.process_time()
        importlib.import_module(sys.argv[1])
        print("PIPBENCH", time.perf_counter() - t, time.process_time() - c, rss() - m)
        """

    static func parse(_ output: String) -> Measurement? {
        guard let line = output.split(whereSeparator: \.isNewline).last(where: { $0.hasPrefix("PIPBENCH ") }) else { return nil }
        let numbers = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard numbers.count == 3 else { return nil }
        return Measurement(seconds: numbers[0], cpuSeconds: numbers[1], memoryBytes: Int(numbers[2]))
    }
}
