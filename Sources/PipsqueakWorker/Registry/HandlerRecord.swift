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

    enum CodingKeys: String, CodingKey {
        case name, digest, manifest, files, requirements
        case deployedAt = "deployed_at"
        case codeBytes = "code_bytes"
    }
}
