import Foundation
import Yams

/// The optional `pipsqueak.yaml` in a handler directory. Unset fields take the worker's defaults.
public struct HandlerManifest: Codable, Equatable, Sendable {
    /// `none`: loopback only (the default). `outbound`: the internet through user-mode networking, never the
    /// host's own services. `host`: the host's network namespace, only where the worker config allows it.
    public enum Network: String, Codable, Sendable, CaseIterable { case none, outbound, host }

    /// `module.function`; `f.f` by default. A function named `lambda_handler` or any entry whose function
    /// takes two parameters is called AWS-style, as `function(event, context)`.
    public var entry: String = "f.f"
    public var memoryMB: Int?
    public var timeoutSeconds: Double?
    public var maxInstances: Int?
    public var network: Network?
    public var environment: [String: String] = [:]

    public static let fileName = "pipsqueak.yaml"
    public static let allowedKeys: Set<String> = ["entry", "memory_mb", "timeout_s", "max_instances", "network", "environment"]

    public init() {}

    enum CodingKeys: String, CodingKey {
        case entry, network, environment
        case memoryMB = "memory_mb"
        case timeoutSeconds = "timeout_s"
        case maxInstances = "max_instances"
    }

    /// The module path and function name of `entry`.
    public var entryModule: String { String(entry[..<entry.lastIndex(of: ".")!]) }
    public var entryFunction: String { String(entry[entry.index(after: entry.lastIndex(of: ".")!)...]) }

    /// Parses and validates a manifest; every problem is an `invalidManifest` error naming the key.
    public static func parse(yaml text: String) throws(PipsqueakError) -> HandlerManifest {
        let loaded: Any?
        do {
            loaded = try Yams.load(yaml: text)
        } catch {
            throw PipsqueakError(.invalidManifest, "\(fileName) is not valid YAML: \(error)")
        }
        guard let loaded else { return HandlerManifest() }
        guard let map = loaded as? [String: Any] else {
            throw PipsqueakError(.invalidManifest, "\(fileName) must be a mapping of keys to values")
        }
        let unknown = Set(map.keys).subtracting(allowedKeys).sorted()
        if !unknown.isEmpty {
            throw PipsqueakError(.invalidManifest,
                                 "unknown key(s) in \(fileName): \(unknown.joined(separator: ", ")); allowed: \(allowedKeys.sorted().joined(separator: ", "))")
        }
        var manifest = HandlerManifest()
        if let value = map["entry"] {
            guard let entry = value as? String, isValidEntry(entry) else {
                throw PipsqueakError(.invalidManifest, "entry must look like module.function (e.g. f.f or lambda_function.lambda_handler)")
            }
            manifest.entry = entry
        }
        if let value = map["memory_mb"] {
            manifest.memoryMB = try integer(value, key: "memory_mb", range: 32...65536)
        }
        if let value = map["timeout_s"] {
            let seconds = (value as? Double) ?? (value as? Int).map(Double.init)
            guard let seconds, seconds >= 0.1, seconds <= 3600 else {
                throw PipsqueakError(.invalidManifest, "timeout_s must be a number of seconds between 0.1 and 3600")
            }
            manifest.timeoutSeconds = seconds
        }
        if let value = map["max_instances"] {
            manifest.maxInstances = try integer(value, key: "max_instances", range: 1...256)
        }
        if let value = map["network"] {
            guard let text = value as? String, let network = Network(rawValue: text) else {
                throw PipsqueakError(.invalidManifest, "network must be 'none', 'outbound' or 'host'")
            }
            manifest.network = network
        }
        if let value = map["environment"] {
            guard let environment = value as? [String: Any] else {
                throw PipsqueakError(.invalidManifest, "environment must be a map of variable names to values")
            }
            for (key, raw) in environment {
                guard isValidVariableName(key) else {
                    throw PipsqueakError(.invalidManifest, "environment variable name '\(key)' is invalid")
                }
                guard raw is String || raw is Int || raw is Double || raw is Bool else {
                    throw PipsqueakError(.invalidManifest, "environment value of \(key) must be a string, number or boolean")
                }
                manifest.environment[key] = "\(raw)"
            }
        }
        return manifest
    }

    private static func integer(_ value: Any, key: String, range: ClosedRange<Int>) throws(PipsqueakError) -> Int {
        guard let number = value as? Int, range.contains(number) else {
            throw PipsqueakError(.invalidManifest, "\(key) must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    static func isValidEntry(_ entry: String) -> Bool {
        let parts = entry.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count >= 2 && parts.allSatisfy { isIdentifier(Substring($0)) }
    }

    static func isIdentifier(_ text: Substring) -> Bool {
        guard let first = text.first, first == "_" || (first.isASCII && first.isLetter) else { return false }
        return text.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
    }

    static func isValidVariableName(_ name: String) -> Bool {
        isIdentifier(Substring(name)) && !name.hasPrefix("PIPSQUEAK_")
    }
}
