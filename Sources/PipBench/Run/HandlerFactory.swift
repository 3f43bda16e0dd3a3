import PipsqueakCore

/// Creates handlers whose imports are drawn from the generated packages by their popularity.
public struct HandlerFactory: Sendable {
    /// One handler: its name, the packages it imports, and its files.
    public struct Handler: Sendable, Equatable {
        public var name: String
        public var packages: [String]
        public var source: String
        public var requirements: String

        /// The gzip tar the worker's `PUT /handlers/{name}` takes.
        public func archive() throws -> [UInt8] {
            try HandlerArchive.gzipTar(files: [("f.py", Array(source.utf8)), ("requirements.txt", Array(requirements.utf8))])
        }
    }

    public let workload: Workload
    public let packages: [PackagePlan]

    public init(workload: Workload, packages: [PackagePlan]) {
        self.workload = workload
        self.packages = packages
    }

    public func handlers() -> [Handler] {
        let root = SeededGenerator(seed: workload.seed)
        let counts = Sampler(workload.importsPerHandler)
        let weights = packages.map(\.popularity)
        return (0..<workload.handlers).map { i in
            var rng = root.fork("handler", i)
            let wanted = Swift.min(Swift.max(counts.sampleInt(using: &rng), 1), packages.count)
            let picked = rng.distinctIndices(count: wanted, weights: weights).map { packages[$0] }
            return Self.handler(name: "\(workload.handlerPrefix)-\(i)", packages: picked)
        }
    }

    static func handler(name: String, packages: [PackagePlan]) -> Handler {
        let imports = packages.map { "import \($0.importName)" }.joined(separator: "\n")
        let calls = packages.map { "\($0.importName).work(event)[\"package\"]" }.joined(separator: ", ")
        let source = """
            \(imports)


            def f(event):
                return {"handler": "\(name)", "packages": [\(calls)]}

            """
        return Handler(name: name, packages: packages.map(\.name), source: source,
                       requirements: packages.map(\.name).joined(separator: "\n") + "\n")
    }
}
