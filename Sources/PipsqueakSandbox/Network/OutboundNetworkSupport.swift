import Foundation
import PipsqueakCore

/// Whether sandboxes can have an `outbound` network: slirp4netns present and the host firewall rules installed.
public enum OutboundNetworkSupport: Sendable, Equatable {
    /// slirp4netns at `slirp` runs as `uid`, which the firewall confines.
    case available(uid: UInt32, slirp: String)
    /// Why not, for error messages.
    case unavailable(String)

    public static let defaultSlirpPath = "/usr/bin/slirp4netns"

    /// Installs the firewall rules for `uid` and checks for slirp4netns. Never throws: a host without them can
    /// still run sandboxes with no network, and a request for one gets the reason.
    public static func prepare(firewall: SandboxFirewall, slirp: String = defaultSlirpPath) -> OutboundNetworkSupport {
        guard FileManager.default.isExecutableFile(atPath: slirp) else {
            return .unavailable("\(slirp) not found: install slirp4netns (scripts/install-deps.sh does)")
        }
        do {
            try firewall.install()
        } catch {
            return .unavailable("the host firewall rules could not be installed: \(error.message)")
        }
        return .available(uid: firewall.uid, slirp: slirp)
    }

    public var isAvailable: Bool { if case .available = self { true } else { false } }
}
