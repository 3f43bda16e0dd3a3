import Foundation
import Yams

/// A `pipbench run` workload (YAML). Every field has a default; command-line options override them.
public struct Workload: Codable, Sendable, Equatable {
    /// How requests arrive.
    public enum Mode: String, Codable, Sendable {
        /// Poisson arrivals at `rate` per second, regardless of responses.
        case open
        /// `concurrency` clients, each sending its next request when the previous one returns.
        case closed
    }

    public var seed: UInt64 = 1
    /// Generated tree (holding `pipbench.json`) the handlers import from; relative to the workload file.
    public var packages: String = "."
    /// Number of handlers to create and deploy.
    public var handlers: Int = 20
    /// Handler names are `<prefix>-<i>`.
    public var handlerPrefix: String = "pb-handler"
    /// Packages each handler imports, drawn by package popularity.
    public var importsPerHandler = Distribution(.empirical([1, 1, 2, 2, 3, 5]))
    /// Which handler each request goes to, by handler rank.
    public var handlerPopularity = Distribution(.zipf(s: 1.0, count: 1000))
    public var mode: Mode = .open
    /// Open loop: mean requests per second.
    public var rate: Double = 10
    /// Closed loop: number of clients.
    public var concurrency: Int = 4
    /// Upper bound on the run's length.
    public var durationSeconds: Double = 60
    /// Upper bound on the number of requests.
    public var requests: Int = 1000
    /// Skip deploying (the handlers already exist on the worker).
    public var skipDeploy: Bool = false

    public init() {}

    enum CodingKeys: String, CodingKey {
        case seed, packages, handlers, handlerPrefix = "handler_prefix", importsPerHandler = "imports_per_handler"
        case handlerPopularity = "handler_popularity", mode, rate, concurrency
        case durationSeconds = "duration_seconds", requests, skipDeploy = "skip_deploy"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = Workload()
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        packages = try c.decodeIfPresent(String.self, forKey: .packages) ?? d.packages
        handlers = try c.decodeIfPresent(Int.self, forKey: .handlers) ?? d.handlers
        handlerPrefix = try c.decodeIfPresent(String.self, forKey: .handlerPrefix) ?? d.handlerPrefix
        importsPerHandler = try c.decodeIfPresent(Distribution.self, forKey: .importsPerHandler) ?? d.importsPerHandler
        handlerPopularity = try c.decodeIfPresent(Distribution.self, forKey: .handlerPopularity) ?? d.handlerPopularity
        mode = try c.decodeIfPresent(Mode.self, forKey: .mode) ?? d.mode
        rate = try c.decodeIfPresent(Double.self, forKey: .rate) ?? d.rate
        concurrency = try c.decodeIfPresent(Int.self, forKey: .concurrency) ?? d.concurrency
        durationSeconds = try c.decodeIfPresent(Double.self, forKey: .durationSeconds) ?? d.durationSeconds
        requests = try c.decodeIfPresent(Int.self, forKey: .requests) ?? d.requests
        skipDeploy = try c.decodeIfPresent(Bool.self, forKey: .skipDeploy) ?? d.skipDeploy
    }

    public static func load(path: String) throws -> Workload {
        do {
            return try YAMLDecoder().decode(Workload.self, from: String(contentsOfFile: path, encoding: .utf8))
        } catch let error as DecodingError {
            throw PipBenchError.invalidSpec("workload \(path): \(error)")
        }
    }

    public func validate() throws {
        guard handlers >= 1 else { throw PipBenchError.invalidSpec("handlers must be at least 1") }
        guard rate > 0 else { throw PipBenchError.invalidSpec("rate must be positive") }
        guard concurrency >= 1 else { throw PipBenchError.invalidSpec("concurrency must be at least 1") }
        guard durationSeconds > 0, requests >= 1 else { throw PipBenchError.invalidSpec("duration and requests must be positive") }
    }
}
