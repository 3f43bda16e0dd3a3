import Foundation
import PipsqueakCore

/// A deployed handler, as stored in `<state>/handlers/<name>.json`.
public struct HandlerRecord: Codable, Sendable, Equatable {
    public var name: String
    /// SHA-256 of the uploaded archive; names the code directory.
    public var digest: String
    public var manifest: HandlerManifest
    public var deployedAt: Date
    public var files: Int
    public var codeBytes: Int
    /// Lines of `requirements.txt`, if the handler has one.
    public var requirements: [String]
    /// The resolved closure of `requirements` (the lock): exact distributions mounted into its sandboxes.
    public var packages: [PackageRef]

    /// What an instance runs: the code and the exact packages. Instances of another revision are never reused.
    public var revision: String {
        packages.isEmpty ? digest : digest + "+" + Array(packages.map(\.description).joined(separator: ",").utf8).sha256Hex.prefix(16)
    }

    public init(name: String, digest: String, manifest: HandlerManifest, deployedAt: Date, files: Int, codeBytes: Int,
                requirements: [String], packages: [PackageRef]) {
        self.name = name
        self.digest = digest
        self.manifest = manifest
        self.deployedAt = deployedAt
        self.files = files
        self.codeBytes = codeBytes
        self.requirements = requirements
        self.packages = packages
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        digest = try container.decode(String.self, forKey: .digest)
        manifest = try container.decode(HandlerManifest.self, forKey: .manifest)
        deployedAt = try container.decode(Date.self, forKey: .deployedAt)
        files = try container.decode(Int.self, forKey: .files)
        codeBytes = try container.decode(Int.self, forKey: .codeBytes)
        requirements = try container.decodeIfPresent([String].self, forKey: .requirements) ?? []
        packages = try container.decodeIfPresent([PackageRef].self, forKey: .packages) ?? []
    }

    enum CodingKeys: String, CodingKey {
        case name, digest, manifest, files, requirements, packages
        case deployedAt = "deployed_at"
        case codeBytes = "code_bytes"
    }
}
