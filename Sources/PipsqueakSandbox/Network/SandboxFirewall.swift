import Foundation
import PipsqueakCore

/// Host nftables rules that keep sandboxes with an `outbound` network away from the host's own services.
///
/// An outbound sandbox reaches the world through slirp4netns, whose sockets live in the host's network namespace
/// and belong to the network uid. These rules reject that uid's traffic to every host-local address (loopback,
/// any address of any interface, through `fib daddr type local`), to link-local and cloud metadata addresses, and
/// allow only DNS to the host's configured resolvers. One table per worker, replaced atomically at start.
public struct SandboxFirewall: Sendable {
    public static let nftPath = "/usr/sbin/nft"

    /// The nftables table name, such as `pipsqueak_3f2a9c0d1e2f`.
    public let table: String
    /// The uid slirp4netns runs as.
    public let uid: UInt32

    public init(table: String, uid: UInt32) {
        self.table = table
        self.uid = uid
    }

    /// The ruleset, as `nft -f` reads it; a re-run replaces the previous one.
    public func ruleset(nameservers: [String]) -> String {
        let v4 = nameservers.filter { !$0.contains(":") }, v6 = nameservers.filter { $0.contains(":") }
        let who = "meta skuid \(uid)"
        var rules: [String] = []
        if !v4.isEmpty { rules.append("\(who) ip daddr { \(v4.joined(separator: ", ")) } meta l4proto { tcp, udp } th dport 53 accept") }
        if !v6.isEmpty { rules.append("\(who) ip6 daddr { \(v6.joined(separator: ", ")) } meta l4proto { tcp, udp } th dport 53 accept") }
        rules += [
            "\(who) fib daddr type { local, broadcast, anycast, multicast } reject",
            "\(who) ip daddr { 0.0.0.0/8, 127.0.0.0/8, 169.254.0.0/16, 100.100.100.200 } reject",
            "\(who) ip6 daddr { ::/128, ::1/128, fe80::/10, fd00:ec2::254 } reject",
        ]
        return """
            table inet \(table) {}
            delete table inet \(table)
            table inet \(table) {
                chain output {
                    type filter hook output priority -10; policy accept;
            \(rules.map { "        " + $0 }.joined(separator: "\n"))
                }
            }

            """
    }

    /// Installs (or replaces) the rules. Throws if nftables is missing or refuses them.
    public func install(resolvConf: String = "/etc/resolv.conf") throws(PipsqueakError) {
        let text = (try? String(contentsOfFile: resolvConf, encoding: .utf8)) ?? ""
        try Self.nft(input: ruleset(nameservers: Self.nameservers(inResolvConf: text)))
    }

    /// Removes the rules; harmless if they are gone.
    public func remove() {
        try? Self.nft(input: "table inet \(table) {}\ndelete table inet \(table)\n")
    }

    /// Whether this worker's table is installed now.
    public func isInstalled() -> Bool {
        (try? Self.nft(arguments: ["list", "table", "inet", table])) != nil
    }

    /// Numeric nameserver addresses of a resolv.conf, in order (zone suffixes dropped).
    public static func nameservers(inResolvConf text: String) -> [String] {
        text.split(whereSeparator: \.isNewline).compactMap { line in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, fields[0] == "nameserver" else { return nil }
            let address = String(fields[1].split(separator: "%").first ?? "")
            let allowed = address.allSatisfy { $0.isHexDigit || $0 == "." || $0 == ":" }
            return allowed && !address.isEmpty ? address : nil
        }
    }

    @discardableResult
    private static func nft(arguments: [String] = ["-f", "-"], input: String? = nil) throws(PipsqueakError) -> String {
        guard FileManager.default.isExecutableFile(atPath: nftPath) else {
            throw PipsqueakError(.sandboxFailed, "\(nftPath) not found: install nftables (scripts/install-deps.sh does)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: nftPath)
        process.arguments = arguments
        let stdin = Pipe(), output = Pipe()
        process.standardInput = stdin
        process.standardOutput = output
        process.standardError = output
        do {
            try process.run()
        } catch {
            throw PipsqueakError(.sandboxFailed, "cannot run nft: \(error)")
        }
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try? stdin.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PipsqueakError(.sandboxFailed, "nft \(arguments.joined(separator: " ")) failed: \(text.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return text
    }
}
