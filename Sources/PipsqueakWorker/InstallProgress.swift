import PipsqueakCache
import PipsqueakCore
import Synchronization

/// What each deploy that installs packages is doing right now.
final class InstallProgress: Sendable {
    struct Job: Codable, Sendable {
        var handler: String
        var phase: String
    }

    private let jobs = Mutex<[String: String]>([:])

    func set(_ handler: String, _ phase: String) { jobs.withLock { $0[handler] = phase } }
    func clear(_ handler: String) { jobs.withLock { $0[handler] = nil } }
    func all() -> [Job] { jobs.withLock { $0.map { Job(handler: $0.key, phase: $0.value) } }.sorted { $0.handler < $1.handler } }
}

/// A one-way flag shared with a `@Sendable` closure.
final class Flag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}

/// One row of `GET /packages`.
struct PackageListing: Encodable, Sendable {
    var package: InstalledPackage
    var handlers: [String]

    func encode(to encoder: any Encoder) throws {
        try package.encode(to: encoder)
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(handlers, forKey: .handlers)
    }

    enum Keys: String, CodingKey { case handlers }
}
