import Foundation
import Synchronization

/// Progress of a generation run, reported after each package.
public struct GenerationProgress: Sendable {
    public var packagesDone: Int
    public var packagesTotal: Int
    public var filesWritten: Int
    public var bytesWritten: Int
}

/// What a generation run produced.
public struct GenerationSummary: Sendable {
    public var packages: Int
    public var releases: Int
    public var filesWritten: Int
    public var bytesWritten: Int
    public var seconds: Double
}

/// The manifest written beside the index (`pipbench.json`), which `pipbench run` reads.
public struct BenchManifest: Codable, Sendable {
    public var spec: BenchSpec
    public var packages: [PackagePlan]

    public static let fileName = "pipbench.json"

    public static func load(from directory: URL) throws -> BenchManifest {
        try JSONDecoder().decode(BenchManifest.self, from: Data(contentsOf: directory.appendingPathComponent(fileName)))
    }
}

/// `pipbench generate`: plans packages, writes wheels/sdists in parallel, then the simple index and manifest.
///
/// Each project's files sit beside its index page (`simple/<project>/<file>`), so a `file://` index works
/// even where only the `simple/` folder is visible (the worker mounts just that folder into its sandboxes).
public struct Generator: Sendable {
    public let spec: BenchSpec
    public let templates: [PackageTemplate]
    public let output: URL

    public init(spec: BenchSpec, templates: [PackageTemplate] = [], output: URL) {
        self.spec = spec
        self.templates = templates
        self.output = output
    }

    /// Loads the spec's template files (paths relative to `base`).
    public static func loadTemplates(_ spec: BenchSpec, relativeTo base: URL) throws -> [PackageTemplate] {
        try spec.templates.map { path in
            let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : base.appendingPathComponent(path)
            return try JSONDecoder().decode(PackageTemplate.self, from: Data(contentsOf: url))
        }
    }

    @discardableResult
    public func run(progress: (@Sendable (GenerationProgress) -> Void)? = nil) throws -> GenerationSummary {
        let start = Date()
        let plans = Planner(spec: spec, templates: templates).plan()
        let fm = FileManager.default
        let output = self.output
        try? fm.removeItem(at: output.appendingPathComponent("simple"))

        struct State {
            var links: [[SimpleIndex.Link]]
            var done = 0, files = 0, bytes = 0, releases = 0
            var error: Error?
        }
        let state = Mutex(State(links: Array(repeating: [], count: plans.count)))
        let spec = self.spec
        DispatchQueue.concurrentPerform(iterations: plans.count) { i in
            if state.withLock({ $0.error != nil }) { return }
            do {
                let plan = plans[i]
                var links: [SimpleIndex.Link] = []
                var files = 0, bytes = 0
                let projectDir = output.appendingPathComponent(SimpleIndex.projectPath(plan.name))
                try fm.createDirectory(at: projectDir, withIntermediateDirectories: true)
                for version in plan.versions {
                    let release = ReleaseBuilder(plan: plan, version: version, spec: spec)
                    let sources = release.sourceFiles()
                    func write(_ name: String, _ data: [UInt8]) throws {
                        try Data(data).write(to: projectDir.appendingPathComponent(name))
                        files += 1
                        bytes += data.count
                    }
                    if plan.hasWheel {
                        let name = plan.wheelFileName(version: version)
                        let wheel = try release.wheel(files: sources)
                        let metadata = Array(release.metadata.utf8)
                        try write(name, wheel)
                        try write(name + ".metadata", metadata)
                        links.append(.init(filename: name, sha256: ReleaseBuilder.hexDigest(wheel),
                                           requiresPython: spec.requiresPython, metadataSha256: ReleaseBuilder.hexDigest(metadata)))
                    }
                    if plan.hasSdist {
                        let name = plan.sdistFileName(version: version)
                        let sdist = try release.sdist(files: sources)
                        try write(name, sdist)
                        links.append(.init(filename: name, sha256: ReleaseBuilder.hexDigest(sdist), requiresPython: spec.requiresPython))
                    }
                }
                let snapshot = state.withLock { s -> GenerationProgress in
                    s.links[i] = links
                    s.done += 1
                    s.files += files
                    s.bytes += bytes
                    s.releases += plan.versions.count
                    return GenerationProgress(packagesDone: s.done, packagesTotal: plans.count, filesWritten: s.files, bytesWritten: s.bytes)
                }
                progress?(snapshot)
            } catch {
                state.withLock { if $0.error == nil { $0.error = error } }
            }
        }
        let final = state.withLock { $0 }
        if let error = final.error { throw error }

        var index = SimpleIndex()
        for (plan, links) in zip(plans, final.links) { index.projects[plan.name] = links }
        try index.write(to: output)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(BenchManifest(spec: spec, packages: plans)).write(to: output.appendingPathComponent(BenchManifest.fileName))
        return GenerationSummary(packages: plans.count, releases: final.releases, filesWritten: final.files,
                                 bytesWritten: final.bytes, seconds: Date().timeIntervalSince(start))
    }
}
