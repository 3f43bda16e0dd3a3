import Foundation
import Logging
import PipsqueakCore
import PipsqueakSandbox
import Synchronization

/// Deployed handlers and their code, persisted in the state directory with atomic writes.
///
/// Layout: `handlers/<name>.json` records, `code/<digest>/` extracted code (read-only, shared by equal uploads).
public final class HandlerRegistry: Sendable {
    public let stateDirectory: URL
    private let records = Mutex<[String: HandlerRecord]>([:])
    /// Code digests held by requests in progress: their directories outlive a redeploy or delete until released.
    private let pins = Mutex<[String: Int]>([:])
    /// Serializes deploys and deletes so records and code directories stay consistent.
    private let writeLock = Mutex<Void>(())

    private var handlersDirectory: URL { stateDirectory.appendingPathComponent("handlers") }
    private var codeRoot: URL { stateDirectory.appendingPathComponent("code") }

    public init(stateDirectory: URL, logger: Logger) throws {
        self.stateDirectory = stateDirectory
        let manager = FileManager.default
        try manager.createDirectory(at: handlersDirectory, withIntermediateDirectories: true)
        try manager.createDirectory(at: codeRoot, withIntermediateDirectories: true)
        var loaded: [String: HandlerRecord] = [:]
        let decoder = Self.decoder
        for file in try manager.contentsOfDirectory(atPath: handlersDirectory.path) {
            let url = handlersDirectory.appendingPathComponent(file)
            if file.hasPrefix(".") {
                try? manager.removeItem(at: url)   // an interrupted atomic write
                continue
            }
            guard file.hasSuffix(".json") else { continue }
            do {
                let record = try decoder.decode(HandlerRecord.self, from: Data(contentsOf: url))
                guard manager.fileExists(atPath: codeDirectory(digest: record.digest).path) else {
                    logger.error("handler code missing; skipping", metadata: ["handler": "\(record.name)"])
                    continue
                }
                loaded[record.name] = record
            } catch {
                logger.error("unreadable handler record; skipping", metadata: ["file": "\(file)", "error": "\(error)"])
            }
        }
        // Extraction directories of interrupted deploys.
        for directory in try manager.contentsOfDirectory(atPath: codeRoot.path) where directory.hasPrefix(".") {
            try? manager.removeItem(at: codeRoot.appendingPathComponent(directory))
        }
        records.withLock { $0 = loaded }
    }

    public func codeDirectory(digest: String) -> URL { codeRoot.appendingPathComponent(digest) }

    public func record(named name: String) -> HandlerRecord? { records.withLock { $0[name] } }

    /// The handler's record, with its code kept on disk until `checkin`: a request admitted before a redeploy
    /// can always start the code it was admitted with.
    public func checkout(_ name: String) -> HandlerRecord? {
        writeLock.withLock { _ in
            guard let record = record(named: name) else { return nil }
            pins.withLock { $0[record.digest, default: 0] += 1 }
            return record
        }
    }

    /// Releases a `checkout`; removes the code if no record uses it and no request holds it any more.
    public func checkin(_ record: HandlerRecord) {
        writeLock.withLock { _ in
            pins.withLock { pins in
                let count = pins[record.digest, default: 1] - 1
                pins[record.digest] = count > 0 ? count : nil
            }
            removeCodeIfUnused(record.digest)
        }
    }

    public func all() -> [HandlerRecord] { records.withLock { Array($0.values) }.sorted { $0.name < $1.name } }

    /// An uploaded handler, validated but not stored yet.
    public struct PreparedDeploy: Sendable {
        public var name: HandlerName
        public var digest: String
        public var manifest: HandlerManifest
        public var requirements: [String]
        var entries: [HandlerArchive.Entry]
    }

    /// Validates an uploaded gzip tar: archive, manifest, entry module and requirements.
    public func prepare(name: HandlerName, archive: [UInt8]) throws(PipsqueakError) -> PreparedDeploy {
        let entries = try HandlerArchive.entries(gzipped: archive)
        let files = entries.filter { !$0.isDirectory }
        var manifest = HandlerManifest()
        if let yaml = files.first(where: { $0.path == HandlerManifest.fileName }) {
            manifest = try HandlerManifest.parse(yaml: String(decoding: yaml.contents, as: UTF8.self))
        }
        let modulePath = manifest.entryModule.replacingOccurrences(of: ".", with: "/")
        guard files.contains(where: { $0.path == modulePath + ".py" || $0.path == modulePath + "/__init__.py" }) else {
            throw PipsqueakError(.invalidArchive,
                                 "entry \(manifest.entry) needs \(modulePath).py in the handler directory; the archive holds: \(files.prefix(10).map(\.path).joined(separator: ", "))")
        }
        let requirements = try files.first { $0.path == "requirements.txt" }.map { file throws(PipsqueakError) in
            try Requirements.parse(String(decoding: file.contents, as: UTF8.self))
        } ?? []
        return PreparedDeploy(name: name, digest: archive.sha256Hex, manifest: manifest, requirements: requirements, entries: entries)
    }

    /// Stores prepared code with its resolved packages. Returns the record and whether the code changed.
    public func commit(_ prepared: PreparedDeploy, packages: [PackageRef]) throws(PipsqueakError) -> (record: HandlerRecord, changed: Bool) {
        let name = prepared.name
        let files = prepared.entries.filter { !$0.isDirectory }
        return try writeLock.withLock { _ throws(PipsqueakError) in
            try storeCode(prepared.entries, digest: prepared.digest)
            let previous = record(named: name.value)
            let record = HandlerRecord(name: name.value, digest: prepared.digest, manifest: prepared.manifest, deployedAt: Date(),
                                       files: files.count, codeBytes: files.reduce(0) { $0 + $1.contents.count },
                                       requirements: prepared.requirements, packages: packages)
            do {
                try AtomicFile.write(try Self.encoder.encode(record), to: recordURL(name.value))
            } catch {
                throw PipsqueakError(.internalError, "cannot save handler \(name): \(error)")
            }
            records.withLock { $0[name.value] = record }
            if let previous, previous.digest != prepared.digest { removeCodeIfUnused(previous.digest) }
            return (record, previous?.digest != prepared.digest || previous?.packages != packages)
        }
    }

    /// Deletes a handler; throws `notFound` if there is none.
    public func delete(name: String) throws(PipsqueakError) {
        try writeLock.withLock { _ throws(PipsqueakError) in
            guard let record = record(named: name) else { throw PipsqueakError(.notFound, "no handler named \(name)") }
            do {
                try FileManager.default.removeItem(at: recordURL(name))
            } catch {
                throw PipsqueakError(.internalError, "cannot delete handler \(name): \(error)")
            }
            records.withLock { $0[name] = nil }
            removeCodeIfUnused(record.digest)
        }
    }

    private func recordURL(_ name: String) -> URL { handlersDirectory.appendingPathComponent("\(name).json") }

    private func storeCode(_ entries: [HandlerArchive.Entry], digest: String) throws(PipsqueakError) {
        let target = codeDirectory(digest: digest)
        if FileManager.default.fileExists(atPath: target.path) { return }
        let staging = codeRoot.appendingPathComponent(".staging-\(digest)-\(UInt32.random(in: 0...UInt32.max))")
        do {
            try HandlerArchive.extract(entries, into: staging)
            try makeWorldReadable(staging)
            try AtomicFile.rename(staging, to: target)
        } catch {
            try? FileManager.default.removeItem(at: staging)
            throw PipsqueakError(.internalError, "cannot store handler code: \(error)")
        }
    }

    /// Sandbox users are unprivileged and unmapped, so code must be readable (not writable) by others.
    private func makeWorldReadable(_ directory: URL) throws {
        let manager = FileManager.default
        try manager.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory.path)
        let enumerator = manager.enumerator(at: directory, includingPropertiesForKeys: [.isDirectoryKey])
        while let url = enumerator?.nextObject() as? URL {
            let isDirectory = (try? url.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) ?? false
            try manager.setAttributes([.posixPermissions: isDirectory ? 0o755 : 0o644], ofItemAtPath: url.path)
        }
    }

    /// Called with `writeLock` held. Renames the directory away at once (a redeploy of the same code then
    /// stores it anew) and deletes it on a blocking-work thread.
    private func removeCodeIfUnused(_ digest: String) {
        let used = records.withLock { $0.values.contains { $0.digest == digest } } || pins.withLock { $0[digest] != nil }
        guard !used else { return }
        let trash = codeRoot.appendingPathComponent(".trash-\(digest)-\(UInt32.random(in: 0...UInt32.max))")
        guard rename(codeDirectory(digest: digest).path, trash.path) == 0 else { return }
        Task { await BlockingWork.run { try? FileManager.default.removeItem(at: trash) } }
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}
