import Foundation
import Testing
@testable import PipBench

@Suite struct WheelTests {
    private func release(_ spec: BenchSpec = TestSupport.smallSpec(), index: Int = 5) -> (ReleaseBuilder, [(path: String, contents: [UInt8])]) {
        let plans = Planner(spec: spec).plan()
        let builder = ReleaseBuilder(plan: plans[index], version: plans[index].latestVersion, spec: spec)
        return (builder, builder.sourceFiles())
    }

    @Test func wheelHasConsistentRecordMetadataAndWheelFile() throws {
        var spec = TestSupport.smallSpec()
        spec.dependencies = .constant(2)
        let (builder, files) = release(spec)
        let zip = try ZipReader(try builder.wheel(files: files))
        let info = "\(builder.plan.distName)-\(builder.version).dist-info"
        let record = String(decoding: try zip.contents(atPath: "\(info)/RECORD")!, as: UTF8.self)
        let lines = record.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        #expect(Set(lines.map { $0[0] }) == Set(zip.entries.map(\.path)))
        for line in lines where line[0] != "\(info)/RECORD" {
            let contents = try zip.contents(atPath: line[0])!
            #expect(line[1] == "sha256=" + ReleaseBuilder.recordDigest(contents))
            #expect(Int(line[2]) == contents.count)
        }
        let metadata = String(decoding: try zip.contents(atPath: "\(info)/METADATA")!, as: UTF8.self)
        #expect(metadata.contains("Name: \(builder.plan.name)\n"))
        #expect(metadata.contains("Version: \(builder.version)\n"))
        let requires = metadata.split(separator: "\n").filter { $0.hasPrefix("Requires-Dist: ") }
        #expect(requires.count == 2)
        #expect(String(decoding: try zip.contents(atPath: "\(info)/WHEEL")!, as: UTF8.self).contains("Tag: py3-none-any"))
    }

    @Test func pythonSourcesCompileAndPythonZipfileAgrees() throws {
        var spec = TestSupport.smallSpec()
        spec.fileKinds = ["py": 1, "json": 1]
        spec.fileSizeBytes = Distribution(.uniform(low: 10, high: 5000))
        spec.filesPerPackage = .constant(20)
        spec.directoryDepth = .constant(2)
        let (builder, files) = release(spec)
        let dir = try TestSupport.temporaryDirectory("wheel")
        defer { try? FileManager.default.removeItem(at: dir) }
        let wheel = dir.appendingPathComponent(builder.plan.wheelFileName(version: builder.version))
        try Data(try builder.wheel(files: files)).write(to: wheel)
        let script = """
            import json, sys, zipfile
            z = zipfile.ZipFile(sys.argv[1])
            assert z.testzip() is None
            for n in z.namelist():
                if n.endswith(".py"):
                    compile(z.read(n), n, "exec")
                if n.endswith(".json"):
                    json.loads(z.read(n))
            print("ok", len(z.namelist()))
            """
        let result = try TestSupport.run(TestSupport.python, ["-c", script, wheel.path])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.hasPrefix("ok"))
    }

    @Test func filesHaveTheirPlannedSizes() {
        let (builder, files) = release()
        let sizes = Dictionary(uniqueKeysWithValues: files.map { ($0.path, $0.contents.count) })
        for file in builder.plan.files {
            #expect(sizes[file.path] == file.size)
        }
    }

    @Test func compressionRatioTargetIsReproduced() throws {
        for target in [0.15, 0.3, 0.5] {
            var rng = SeededGenerator(seed: 9)
            let text = ContentSynth.text(size: 400_000, ratio: target, kind: .python, header: "h", using: &rng)
            let ratio = Double(try Deflate.compress(text).count) / Double(text.count)
            #expect(abs(ratio - target) < 0.04, "text target \(target) got \(ratio)")
            let binary = ContentSynth.binary(size: 400_000, ratio: target, using: &rng)
            let binaryRatio = Double(try Deflate.compress(binary).count) / Double(binary.count)
            #expect(abs(binaryRatio - target) < 0.04, "binary target \(target) got \(binaryRatio)")
        }
    }

    @Test func smallFilesStillReachTheTargetInAggregate() throws {
        var rng = SeededGenerator(seed: 4)
        var raw = 0, compressed = 0
        for _ in 0..<60 {
            let text = ContentSynth.text(size: 3000, ratio: 0.25, kind: .python, header: "small", using: &rng)
            raw += text.count
            compressed += try Deflate.compress(text).count
        }
        #expect(abs(Double(compressed) / Double(raw) - 0.25) < 0.03)
    }

    @Test func zipRoundTripsThroughReader() throws {
        var zip = ZipWriter()
        let big = [UInt8](repeating: 65, count: 10_000)
        try zip.add(path: "a/b.txt", contents: big)
        try zip.add(path: "c", contents: [1, 2, 3])
        let reader = try ZipReader(zip.finish())
        #expect(reader.entries.map(\.path) == ["a/b.txt", "c"])
        #expect(reader.entries[0].method == 8)
        #expect(try reader.contents(atPath: "a/b.txt") == big)
        #expect(try reader.contents(atPath: "c") == [1, 2, 3])
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    }
}
