import AsyncHTTPClient
import Foundation
import Testing
@testable import PipBench

@Suite(.serialized) struct ServerTests {
    @Test func rangeHeaderParsing() {
        #expect(ByteRange.parse(nil, size: 10) == .whole)
        #expect(ByteRange.parse("bytes=0-3", size: 10) == .partial(lower: 0, upper: 3))
        #expect(ByteRange.parse("bytes=4-", size: 10) == .partial(lower: 4, upper: 9))
        #expect(ByteRange.parse("bytes=-3", size: 10) == .partial(lower: 7, upper: 9))
        #expect(ByteRange.parse("bytes=5-100", size: 10) == .partial(lower: 5, upper: 9))
        #expect(ByteRange.parse("bytes=10-", size: 10) == .unsatisfiable)
        #expect(ByteRange.parse("bytes=0-1,4-5", size: 10) == .whole)
        #expect(ByteRange.parse("items=0-1", size: 10) == .whole)
    }

    @Test func acceptNegotiation() {
        #expect(FileResolver.prefersJSON("application/vnd.pypi.simple.v1+json"))
        #expect(FileResolver.prefersJSON("application/vnd.pypi.simple.v1+json, text/html;q=0.1"))
        #expect(!FileResolver.prefersJSON("text/html"))
        #expect(!FileResolver.prefersJSON("application/vnd.pypi.simple.v1+json;q=0.2, text/html"))
    }

    @Test func realPipInstallsOverHTTPWithDependencies() async throws {
        var spec = TestSupport.smallSpec(packages: 8)
        spec.dependencies = .constant(2)
        let root = try TestSupport.generate(spec, label: "serve-pip")
        let target = try TestSupport.temporaryDirectory("serve-site")
        defer { for u in [root, target] { try? FileManager.default.removeItem(at: u) } }
        let top = try BenchManifest.load(from: root).packages.last!
        let result = try await ServerHarness.withServer(root: root) { port in
            try await TestSupport.pipInstallDetached([top.name], indexURL: "http://127.0.0.1:\(port)/simple", target: target)
        }
        #expect(result.status == 0, "\(result.output)")
        let installed = try FileManager.default.contentsOfDirectory(atPath: target.path).filter { $0.hasSuffix(".dist-info") }
        #expect(installed.count == 1 + top.requirements.count || installed.count > top.requirements.count)
        #expect(installed.contains { $0.hasPrefix(top.importName + "-") })
    }

    @Test func httpSemantics() async throws {
        let root = try TestSupport.generate(TestSupport.smallSpec(packages: 3), label: "serve-http")
        defer { try? FileManager.default.removeItem(at: root) }
        let plan = try BenchManifest.load(from: root).packages[0]
        let file = plan.wheelFileName(version: plan.latestVersion)
        let bytes = Array(try Data(contentsOf: root.appendingPathComponent("simple/\(plan.name)/\(file)")))
        try await ServerHarness.withServer(root: root) { port in
            let base = "http://127.0.0.1:\(port)"
            let whole = try await ServerHarness.get("\(base)/simple/\(plan.name)/\(file)")
            #expect(whole.status == 200)
            #expect(whole.body == bytes)
            #expect(whole.headers["content-type"] == "application/zip")
            let etag = try #require(whole.headers["etag"])

            let cached = try await ServerHarness.get("\(base)/simple/\(plan.name)/\(file)", headers: [("If-None-Match", etag)])
            #expect(cached.status == 304)

            let part = try await ServerHarness.get("\(base)/simple/\(plan.name)/\(file)", headers: [("Range", "bytes=10-19")])
            #expect(part.status == 206)
            #expect(part.body == Array(bytes[10...19]))
            #expect(part.headers["content-range"] == "bytes 10-19/\(bytes.count)")

            let beyond = try await ServerHarness.get("\(base)/simple/\(plan.name)/\(file)", headers: [("Range", "bytes=\(bytes.count)-")])
            #expect(beyond.status == 416)
            #expect(beyond.headers["content-range"] == "bytes */\(bytes.count)")

            let head = try await ServerHarness.get("\(base)/simple/\(plan.name)/\(file)", method: "HEAD")
            #expect(head.status == 200)
            #expect(head.headers["content-length"] == String(bytes.count))

            let page = try await ServerHarness.get("\(base)/simple/\(plan.name)/")
            #expect(page.headers["content-type"]?.hasPrefix("text/html") == true)
            #expect(String(decoding: page.body, as: UTF8.self).contains(file))
            let json = try await ServerHarness.get("\(base)/simple/\(plan.name)/", headers: [("Accept", FileResolver.pep691JSON)])
            #expect(json.headers["content-type"] == FileResolver.pep691JSON)

            #expect(try await ServerHarness.get("\(base)/simple/no-such-project/").status == 404)
            #expect(try await ServerHarness.get("\(base)/nothing/here.whl").status == 404)
            #expect(try await ServerHarness.get("\(base)/simple/%2e%2e/%2e%2e/etc/passwd").status == 403)
            #expect(try await ServerHarness.get("\(base)/simple/..%2F..%2Fetc%2Fpasswd").status == 403)
            #expect(try await ServerHarness.get("\(base)/simple/\(plan.name)", method: "POST").status == 405)
            let redirect = try await ServerHarness.get("\(base)/simple/\(plan.name.uppercased())/")
            #expect(redirect.status == 200 || redirect.status == 301)
        }
    }

    /// A bandersnatch-style tree: project pages under `web/simple/`, files under `web/packages/xx/yy/`.
    @Test func servesABandersnatchStyleMirror() async throws {
        var spec = TestSupport.smallSpec(packages: 4)
        spec.dependencies = .constant(1)
        let generated = try TestSupport.generate(spec, label: "bander-src")
        let web = try TestSupport.temporaryDirectory("bander-web")
        let target = try TestSupport.temporaryDirectory("bander-site")
        defer { for u in [generated, web, target] { try? FileManager.default.removeItem(at: u) } }
        let fm = FileManager.default
        let plans = try BenchManifest.load(from: generated).packages
        try fm.createDirectory(at: web.appendingPathComponent("simple"), withIntermediateDirectories: true)
        try fm.copyItem(at: generated.appendingPathComponent("simple/index.html"), to: web.appendingPathComponent("simple/index.html"))
        for plan in plans {
            let source = generated.appendingPathComponent("simple/\(plan.name)")
            var page = try String(contentsOf: source.appendingPathComponent("index.html"), encoding: .utf8)
            for file in try fm.contentsOfDirectory(atPath: source.path) where file.hasSuffix(".whl") {
                let shard = "packages/\(file.prefix(2))/\(file.dropFirst(2).prefix(2))"
                try fm.createDirectory(at: web.appendingPathComponent(shard), withIntermediateDirectories: true)
                try fm.copyItem(at: source.appendingPathComponent(file), to: web.appendingPathComponent("\(shard)/\(file)"))
                page = page.replacingOccurrences(of: "href=\"\(file)#", with: "href=\"../../\(shard)/\(file)#")
            }
            page = page.replacingOccurrences(of: #" data-dist-info-metadata="[^"]*" data-core-metadata="[^"]*""#, with: "", options: .regularExpression)
            try fm.createDirectory(at: web.appendingPathComponent("simple/\(plan.name)"), withIntermediateDirectories: true)
            try page.write(to: web.appendingPathComponent("simple/\(plan.name)/index.html"), atomically: true, encoding: .utf8)
        }
        let top = plans[3]
        let result = try await ServerHarness.withServer(root: web) { port in
            try await TestSupport.pipInstallDetached([top.name], indexURL: "http://127.0.0.1:\(port)/simple", target: target)
        }
        #expect(result.status == 0, "\(result.output)")
        #expect(fm.fileExists(atPath: target.appendingPathComponent(top.importName).path))
        #expect(fm.fileExists(atPath: target.appendingPathComponent(top.requirements[0].name.replacingOccurrences(of: "-", with: "_")).path))
    }

    @Test func symlinksOutOfTheRootAreRefused() throws {
        let root = try TestSupport.temporaryDirectory("serve-link")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("simple"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("simple/escape").path, withDestinationPath: "/etc")
        let resolver = FileResolver(root: root)
        #expect(resolver.resolve(path: "/simple/escape/passwd", accept: nil) == .forbidden)
        #expect(resolver.resolve(path: "/simple/../x", accept: nil) == .forbidden)
        #expect(resolver.resolve(path: "/simple/missing/", accept: nil) == .notFound)
    }
}
