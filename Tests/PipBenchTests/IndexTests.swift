import Foundation
import Testing
@testable import PipBench

@Suite struct IndexTests {
    @Test func normalizationFollowsPEP503() {
        #expect(SimpleIndex.normalize("Foo.Bar__baz") == "foo-bar-baz")
        #expect(SimpleIndex.normalize("pb-kavo-0007") == "pb-kavo-0007")
    }

    @Test func projectPagesLinkEveryFileWithItsHash() throws {
        let root = try TestSupport.generate(TestSupport.smallSpec(packages: 5), label: "index")
        defer { try? FileManager.default.removeItem(at: root) }
        let manifest = try BenchManifest.load(from: root)
        let rootPage = try String(contentsOf: root.appendingPathComponent("simple/index.html"), encoding: .utf8)
        for plan in manifest.packages {
            #expect(rootPage.contains("<a href=\"\(plan.name)/\">\(plan.name)</a>"))
            let page = try String(contentsOf: root.appendingPathComponent("simple/\(plan.name)/index.html"), encoding: .utf8)
            for version in plan.versions {
                let file = plan.wheelFileName(version: version)
                let digest = ReleaseBuilder.hexDigest(Array(try Data(contentsOf: root.appendingPathComponent("simple/\(plan.name)/\(file)"))))
                #expect(page.contains("href=\"\(file)#sha256=\(digest)\""))
                let metadata = Array(try Data(contentsOf: root.appendingPathComponent("simple/\(plan.name)/\(file).metadata")))
                #expect(page.contains("data-dist-info-metadata=\"sha256=\(ReleaseBuilder.hexDigest(metadata))\""))
            }
            #expect(page.contains("data-requires-python=\"&gt;=3.8\""))
        }
    }

    @Test func jsonFormMatchesPEP691() throws {
        let root = try TestSupport.generate(TestSupport.smallSpec(packages: 3), label: "json")
        defer { try? FileManager.default.removeItem(at: root) }
        let plan = try BenchManifest.load(from: root).packages[1]
        let data = try Data(contentsOf: root.appendingPathComponent("simple/\(plan.name)/index.json"))
        let object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        #expect((object["meta"] as? [String: String])?["api-version"] == "1.0")
        #expect(object["name"] as? String == plan.name)
        let files = object["files"] as! [[String: Any]]
        #expect(files.count == plan.versions.count)
        for file in files {
            let hashes = file["hashes"] as! [String: String]
            #expect(hashes["sha256"]?.count == 64)
            #expect((file["url"] as! String).hasPrefix(plan.distName))
        }
        let projects = try JSONSerialization.jsonObject(with: Data(contentsOf: root.appendingPathComponent("simple/index.json"))) as! [String: Any]
        #expect((projects["projects"] as! [[String: String]]).count == 3)
    }
}
