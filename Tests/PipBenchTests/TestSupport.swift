import Foundation
@testable import PipBench

/// Helpers shared by the PipBench tests.
enum TestSupport {
    /// Debian's interpreter: the real pip the project tests against.
    static let python = "/usr/bin/python3"

    /// A product `swift build` put next to the test binary (or in a folder above it), if built.
    static func builtExecutable(_ name: String) -> String? {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var url = URL(fileURLWithPath: executable).deletingLastPathComponent()
        while url.path != "/" {
            let candidate = url.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            url.deleteLastPathComponent()
        }
        return nil
    }

    static func temporaryDirectory(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("pipbench-\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A small, fast spec: few tiny files, no import or install cost.
    static func smallSpec(seed: UInt64 = 11, packages: Int = 12) -> BenchSpec {
        var spec = BenchSpec()
        spec.seed = seed
        spec.packages = packages
        spec.filesPerPackage = Distribution(.uniform(low: 1, high: 4))
        spec.fileSizeBytes = Distribution(.uniform(low: 200, high: 3000))
        spec.importCpuSeconds = .constant(0)
        spec.importMemoryBytes = .constant(1024)
        spec.installCpuSeconds = .constant(0)
        spec.nativeSizeBytes = .constant(8192)
        spec.versionsPerPackage = Distribution(.uniform(low: 1, high: 3))
        return spec
    }

    static func generate(_ spec: BenchSpec, label: String = "gen") throws -> URL {
        let out = try temporaryDirectory(label)
        try Generator(spec: spec, output: out).run()
        return out
    }

    /// Runs a program to completion and returns its exit status and combined output.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> (status: Int32, output: String) {
        let result = try ProcessRunner.run(executable, arguments, environment: environment)
        return (result.status, result.output)
    }

    /// `pipInstall` on a Dispatch thread, so waiting for pip does not block Swift's cooperative threads
    /// (an in-process server needs them to answer pip).
    static func pipInstallDetached(_ requirements: [String], indexURL: String, target: URL) async throws -> (status: Int32, output: String) {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try pipInstall(requirements, indexURL: indexURL, target: target) })
            }
        }
    }

    /// `pip install --target` with the real pip; returns the exit status and output.
    static func pipInstall(_ requirements: [String], indexURL: String, target: URL) throws -> (status: Int32, output: String) {
        try run(python, ["-m", "pip", "install", "--no-cache-dir", "--disable-pip-version-check", "--no-input",
                         "--target", target.path, "--index-url", indexURL] + requirements)
    }
}
