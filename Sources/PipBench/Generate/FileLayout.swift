/// Decides the files of a package: drawn from the spec's distributions, or stamped from a template.
enum FileLayout {
    static func generate(spec: BenchSpec, into plan: inout PackagePlan, using rng: inout SeededGenerator) {
        let root = plan.importName
        let depth = Swift.min(Swift.max(Sampler(spec.directoryDepth).sampleInt(using: &rng), 0), 8)
        var levels: [[String]] = [[root]]
        for level in 1...Swift.max(depth, 1) where depth > 0 {
            let count = 1 + Int(rng.next() % 2)
            levels.append((0..<count).map { k in
                let parent = levels[level - 1][Int(rng.next() % UInt64(levels[level - 1].count))]
                return "\(parent)/\(pickWord(using: &rng))\(level)\(k)"
            })
        }
        plan.subpackages = levels.dropFirst().flatMap { $0 }.sorted()
        let directories = levels.flatMap { $0 }
        let kinds = spec.fileKinds.sorted { $0.key < $1.key }
        let totalWeight = kinds.reduce(0) { $0 + $1.value }
        let sizes = Sampler(spec.fileSizeBytes)
        let count = Swift.max(1, Sampler(spec.filesPerPackage).sampleInt(using: &rng))
        for i in 0..<count {
            let directory = directories[Int(rng.next() % UInt64(directories.count))]
            var roll = rng.nextUnit() * totalWeight
            var ext = kinds[kinds.count - 1].key
            for (key, weight) in kinds {
                if roll < weight { ext = key; break }
                roll -= weight
            }
            let path = "\(directory)/\(pickWord(using: &rng))_\(i).\(ext)"
            plan.files.append(.init(path: path, size: Swift.max(1, sizes.sampleInt(using: &rng)), kind: kind(forPath: path)))
        }
        if rng.nextUnit() < spec.nativeFraction {
            plan.files.append(.init(path: "\(root)/_native.abi3.so", size: Sampler(spec.nativeSizeBytes).sampleInt(using: &rng), kind: .native))
        }
    }

    /// Copies a real package's file tree under the plan's module, keeping relative paths and sizes.
    static func stamp(_ template: PackageTemplate, into plan: inout PackagePlan) {
        plan.template = template.name
        let root = plan.importName
        for file in template.files {
            var components = file.path.split(separator: "/").map(String.init)
            guard !components.isEmpty, !components[0].hasSuffix(".dist-info") else { continue }
            if template.topLevel.contains(components[0]) { components.removeFirst() }
            if components == ["__init__.py"] || components.isEmpty { continue }
            let path = ([root] + components).joined(separator: "/")
            plan.files.append(.init(path: path, size: file.size, kind: kind(forPath: path)))
        }
        if let cpu = template.importCpuSeconds { plan.importCpuSeconds = cpu }
        if let memory = template.importMemoryBytes { plan.importMemoryBytes = memory }
        if let ratio = template.compressionRatio { plan.compressionRatio = Swift.min(Swift.max(ratio, 0.05), 0.95) }
    }

    static func kind(forPath path: String) -> PackagePlan.FileKind {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        if name.hasSuffix(".py") || name.hasSuffix(".pyi") { return .python }
        if name.hasSuffix(".json") { return .json }
        if name.hasSuffix(".so") || name.contains(".so.") || name.hasSuffix(".pyd") || name.hasSuffix(".dll") || name.hasSuffix(".dylib") {
            return .native
        }
        return .text
    }

    private static func pickWord(using rng: inout SeededGenerator) -> String {
        Naming.moduleWords[Int(rng.next() % UInt64(Naming.moduleWords.count))]
    }
}
