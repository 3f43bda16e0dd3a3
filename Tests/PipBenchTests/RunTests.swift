import Foundation
import Hummingbird
import PipsqueakCore
import Synchronization
import Testing
@testable import PipBench

@Suite struct RunTests {
    private func plans() -> [PackagePlan] { Planner(spec: TestSupport.smallSpec(packages: 30)).plan() }

    @Test func handlersAreDeterministicAndFollowPopularity() throws {
        var workload = Workload()
        workload.handlers = 300
        workload.importsPerHandler = .constant(1)
        let packages = plans()
        let a = HandlerFactory(workload: workload, packages: packages).handlers()
        #expect(a == HandlerFactory(workload: workload, packages: packages).handlers())
        var counts: [String: Int] = [:]
        for h in a { counts[h.packages[0], default: 0] += 1 }
        let top = packages.min { $0.popularityRank < $1.popularityRank }!
        let bottom = packages.max { $0.popularityRank < $1.popularityRank }!
        #expect(counts[top.name, default: 0] > counts[bottom.name, default: 0])
    }

    @Test func requestSequenceIsDeterministicLazyAndFollowsHandlerPopularity() {
        let draw = { (count: Int) -> [Int] in
            let sequence = RequestSequence(seed: 5, popularity: Distribution(.zipf(s: 1.2, count: 8)), handlers: 8, count: count)
            var handlers: [Int] = []
            while let (request, handler) = sequence.take() {
                #expect(request == handlers.count)
                handlers.append(handler)
                if handlers.count == 2_000 { break }
            }
            return handlers
        }
        let first = draw(2_000)
        #expect(first == draw(2_000))
        #expect(draw(Int.max) == first, "a huge request bound changes nothing and is not materialised")
        #expect(draw(3).count == 3)
        #expect(first.allSatisfy { (0..<8).contains($0) })
        let counts = Dictionary(grouping: first, by: { $0 }).mapValues(\.count)
        #expect(counts[0, default: 0] > counts[7, default: 0])
    }

    @Test func handlerArchiveHoldsSourceAndRequirements() throws {
        var workload = Workload()
        workload.importsPerHandler = .constant(3)
        let handler = HandlerFactory(workload: workload, packages: plans()).handlers()[0]
        let entries = try HandlerArchive.entries(gzipped: try handler.archive())
        let files = Dictionary(uniqueKeysWithValues: entries.filter { !$0.isDirectory }.map { ($0.path, String(decoding: $0.contents, as: UTF8.self)) })
        #expect(Set(files.keys) == ["f.py", "requirements.txt"])
        #expect(files["requirements.txt"]!.split(separator: "\n").map(String.init) == handler.packages)
        #expect(handler.packages.count == 3)
        let compiled = try TestSupport.run(TestSupport.python, ["-c", "import ast, sys; ast.parse(sys.argv[1])", files["f.py"]!])
        #expect(compiled.status == 0, "\(compiled.output)")
    }

    @Test func reportSummarisesTiersAndRendersCharts() throws {
        let recorder = LatencyRecorder()
        for i in 0..<100 { recorder.record(.init(offset: Double(i) / 10, microseconds: 1_000, tier: "warm")) }
        for i in 0..<10 { recorder.record(.init(offset: Double(i), microseconds: 500_000, tier: "install")) }
        recorder.record(.init(offset: 3, microseconds: 10, tier: "error"), error: "HTTP 503 overloaded")
        let report = RunReport(recorder: recorder, workload: Workload(), workerURL: "http://w", startedAt: Date(), duration: 10, interrupted: true)
        #expect(report.requests == 111)
        #expect(report.tiers["warm"]?.count == 100)
        #expect(abs((report.tiers["warm"]?.p50Ms ?? 0) - 1) < 0.01)
        #expect(abs((report.tiers["install"]?.p99Ms ?? 0) - 500) < 1)
        #expect(report.errors == ["HTTP 503 overloaded": 1])
        #expect(report.timeSeries.count == 10)
        #expect(report.timeSeries.reduce(0) { $0 + $1.requests } == 111)
        let html = ReportHTML.render(report)
        #expect(html.contains("<svg"))
        #expect(html.components(separatedBy: "<polyline").count - 1 == 4 + 1 + 2)  // 3 tiers + overall CDFs, req/s, p50 and p99
        let json = try JSONSerialization.jsonObject(with: report.json()) as! [String: Any]
        #expect(json["interrupted"] as? Bool == true)
    }

    @Test func closedLoopAgainstAFakeWorkerSendsExactlyTheRequestCount() async throws {
        let runs = Mutex<[String: Int]>([:])
        let router = Router()
        router.put("/handlers/:name") { _, context in
            let name = try context.parameters.require("name")
            return Response(status: .created, body: .init(byteBuffer: ByteBuffer(string: "{\"name\":\"\(name)\",\"digest\":\"x\"}")))
        }
        router.post("/run/:name") { _, context in
            let name = try context.parameters.require("name")
            let n = runs.withLock { r -> Int in r[name, default: 0] += 1; return r[name]! }
            var headers = HTTPFields()
            headers.append(.init(name: .init("X-Pipsqueak-Start")!, value: n == 1 ? "fresh" : "warm"))
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: "{}")))
        }
        try await ServerHarness.withRouter(router) { port in
            var workload = Workload()
            workload.handlers = 3
            workload.mode = .closed
            workload.concurrency = 2
            workload.requests = 25
            let recorder = LatencyRecorder()
            let driver = LoadDriver(workerURL: "http://127.0.0.1:\(port)", workload: workload,
                                    handlers: HandlerFactory(workload: workload, packages: plans()).handlers(), recorder: recorder)
            try await driver.deploy()
            _ = await driver.drive()
            let report = RunReport(recorder: recorder, workload: workload, workerURL: "", startedAt: Date(), duration: 1, interrupted: false)
            #expect(report.requests == 25)
            #expect(runs.withLock { $0.values.reduce(0, +) } == 25)
            #expect(report.tiers["fresh"]?.count == runs.withLock { $0.count })
            #expect((report.tiers["warm"]?.count ?? 0) + (report.tiers["fresh"]?.count ?? 0) == 25)

            workload.mode = .open
            workload.rate = 200
            workload.requests = 20
            let openRecorder = LatencyRecorder()
            let open = LoadDriver(workerURL: "http://127.0.0.1:\(port)", workload: workload, handlers: driver.handlers, recorder: openRecorder)
            _ = await open.drive()
            #expect(openRecorder.count == 20)
        }
    }
}
