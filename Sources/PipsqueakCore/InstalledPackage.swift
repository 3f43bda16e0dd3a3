import Foundation

/// One installed distribution and what installing it cost, stored as `meta.json` beside its files.
public struct InstalledPackage: Codable, Sendable, Equatable {
    public var name: String
    public var version: String
    public var downloadBytes: Int64
    public var installedBytes: Int64
    public var files: Int
    /// Seconds `pip download` took (nil in stores written before it was measured separately).
    public var downloadSeconds: Double?
    /// Seconds `pip install` of the downloaded archive took.
    public var installSeconds: Double
    /// Seconds to import the top-level modules once, in a fresh sandboxed interpreter; nil until measured.
    public var importSeconds: Double?
    public var topLevel: [String]
    public var installedAt: Date
    public var lastUsed: Date

    public var ref: PackageRef { PackageRef(name: name, version: version) }

    public init(name: String, version: String, downloadBytes: Int64, installedBytes: Int64, files: Int, downloadSeconds: Double?,
                installSeconds: Double, importSeconds: Double?, topLevel: [String], installedAt: Date, lastUsed: Date) {
        self.name = name
        self.version = version
        self.downloadBytes = downloadBytes
        self.installedBytes = installedBytes
        self.files = files
        self.downloadSeconds = downloadSeconds
        self.installSeconds = installSeconds
        self.importSeconds = importSeconds
        self.topLevel = topLevel
        self.installedAt = installedAt
        self.lastUsed = lastUsed
    }

    enum CodingKeys: String, CodingKey {
        case name, version, files
        case downloadBytes = "download_bytes"
        case installedBytes = "installed_bytes"
        case downloadSeconds = "download_seconds"
        case installSeconds = "install_seconds"
        case importSeconds = "import_seconds"
        case topLevel = "top_level"
        case installedAt = "installed_at"
        case lastUsed = "last_used"
    }
}

extension PackageRef {
    /// Where this distribution's site directory appears inside every sandbox that may import it (handlers and
    /// zygotes use the same path, so modules a zygote imported keep resolving in the handlers it serves).
    public var pathInSandbox: String { "/packages/\(name)-\(version)" }
}
