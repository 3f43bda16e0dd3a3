import AsyncHTTPClient
import Foundation
import NIOCore
import Synchronization

/// Deploys handlers to a Pipsqueak worker and drives requests at them, open- or closed-loop.
public struct LoadDriver: Sendable {
    public let workerURL: String
    public let workload: Workload
    public let handlers: [HandlerFactory.Handler]
    public let recorder: LatencyRecorder
    let client: HTTPClient

    public init(workerURL: String, workload: Workload, handlers: [HandlerFactory.Handler], recorder: LatencyRecorder,
                client: HTTPClient = .shared) {
        self.workerURL = workerURL.hasSuffix("/") ? String(workerURL.dropLast()) : workerURL
        self.workload = workload
        self.handlers = handlers
        self.recorder = recorder
        self.client = client
    }

    /// `PUT /handlers/{name}` for every handler; the worker installs their requirements before answering.
    public func deploy(progress: @Sendable (Int, Int) -> Void = { _, _ in }) async throws {
        for (i, handler) in handlers.enumerated() {
            var request = HTTPClientRequest(url: "\(workerURL)/handlers/\(handler.name)")
            request.method = .PUT
            request.headers.add(name: "Content-Type", value: "application/gzip")
            request.body = .bytes(ByteBuffer(bytes: try handler.archive()))
            let response = try await client.execute(request, timeout: .seconds(1800))
            let body = try await response.body.collect(upTo: 1 << 20)
            guard response.status.code == 201 || response.status.code == 200 else {
                throw PipBenchError.worker("deploying \(handler.name): HTTP \(response.status.code) \(String(buffer: body))")
            }
            progress(i + 1, handlers.count)
        }
    }

    /// The handler of each request, drawn lazily by handler popularity.
    func requestSequence() -> RequestSequence {
        RequestSequence(seed: workload.seed, popularity: workload.handlerPopularity, handlers: handlers.count, count: workload.requests)
    }

    /// Sends requests until the request count or the duration is reached, or the task is cancelled.
    /// Returns the seconds the run lasted.
    public func drive() async -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        let sequence = requestSequence()
        switch workload.mode {
        case .open: await openLoop(start: start, clock: clock, sequence: sequence)
        case .closed: await closedLoop(start: start, clock: clock, sequence: sequence)
        }
        return Self.seconds(clock.now - start)
    }

    /// Poisson arrivals; latency counts from when a request was due, so a slow worker cannot hide queueing.
    private func openLoop(start: ContinuousClock.Instant, clock: ContinuousClock, sequence: RequestSequence) async {
        var rng = SeededGenerator(seed: workload.seed).fork("arrivals")
        await withTaskGroup(of: Void.self) { group in
            var offset = 0.0
            while let (i, handlerIndex) = sequence.take() {
                offset += -log(Swift.max(1 - rng.nextUnit(), .leastNonzeroMagnitude)) / workload.rate
                if offset > workload.durationSeconds { break }
                let due = start + .microseconds(Int64(offset * 1e6))
                try? await Task.sleep(until: due, clock: clock)
                if Task.isCancelled { break }
                let handler = handlers[handlerIndex]
                group.addTask { await self.send(i, to: handler, due: due, start: start, clock: clock) }
            }
        }
    }

    private func closedLoop(start: ContinuousClock.Instant, clock: ContinuousClock, sequence: RequestSequence) async {
        let deadline = start + .microseconds(Int64(workload.durationSeconds * 1e6))
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<workload.concurrency {
                group.addTask {
                    while !Task.isCancelled, clock.now < deadline {
                        guard let (i, handlerIndex) = sequence.take() else { return }
                        await self.send(i, to: self.handlers[handlerIndex], due: clock.now, start: start, clock: clock)
                    }
                }
            }
        }
    }

    private func send(_ i: Int, to handler: HandlerFactory.Handler, due: ContinuousClock.Instant,
                      start: ContinuousClock.Instant, clock: ContinuousClock) async {
        var request = HTTPClientRequest(url: "\(workerURL)/run/\(handler.name)")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: "{\"request\": \(i)}"))
        var tier = "error"
        var failure: String?
        do {
            let response = try await client.execute(request, timeout: .seconds(600))
            let body = try await response.body.collect(upTo: 16 << 20)
            if response.status.code == 200 {
                tier = response.headers.first(name: "X-Pipsqueak-Start") ?? "unknown"
            } else {
                failure = "HTTP \(response.status.code) " + (Self.errorCode(body) ?? "")
            }
        } catch {
            if Task.isCancelled { return }
            failure = String(describing: type(of: error))
        }
        let elapsed = clock.now - due
        recorder.record(.init(offset: Self.seconds(due - start), microseconds: UInt64(Swift.max(Self.seconds(elapsed) * 1e6, 1)), tier: tier),
                        error: failure)
    }

    /// `error.code` of a worker error body, if it is one.
    static func errorCode(_ body: ByteBuffer) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any],
              let error = object["error"] as? [String: Any] else { return nil }
        return error["code"] as? String
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}

/// Request numbers 0, 1, 2, ... with the handler each goes to, drawn on demand by handler popularity (so a huge
/// request bound costs nothing up front). Request i always gets the i-th draw: runs are deterministic.
final class RequestSequence: Sendable {
    private struct State: Sendable {
        var next = 0
        var rng: SeededGenerator
    }

    private let state: Mutex<State>
    private let cumulative: [Double]
    let count: Int

    init(seed: UInt64, popularity: Distribution, handlers: Int, count: Int) {
        var rng = SeededGenerator(seed: seed).fork("requests")
        let weights = Sampler(popularity).rankWeights(count: handlers, using: &rng)
        var running = 0.0
        cumulative = weights.map { running += $0; return running }
        state = Mutex(State(rng: rng))
        self.count = count
    }

    /// The next request number and its handler index, or nil once `count` requests were handed out.
    func take() -> (request: Int, handler: Int)? {
        state.withLock { s in
            guard s.next < count else { return nil }
            defer { s.next += 1 }
            return (s.next, handlerIndex(for: s.rng.nextUnit() * (cumulative.last ?? 0)))
        }
    }

    /// The first handler whose cumulative weight exceeds `target` (binary search).
    private func handlerIndex(for target: Double) -> Int {
        var low = 0, high = cumulative.count
        while low < high {
            let mid = (low + high) / 2
            if cumulative[mid] > target { high = mid } else { low = mid + 1 }
        }
        return Swift.min(low, cumulative.count - 1)
    }
}
