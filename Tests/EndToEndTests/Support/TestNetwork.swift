import Foundation

/// A network namespace joined to the host by a veth pair, with an HTTP server inside: a host that is not
/// host-local, as a package index on the LAN would be. Removed by `stop()`.
final class TestNetwork: @unchecked Sendable {
    let namespace: String
    let hostInterface: String
    /// The host's end of the veth pair (a host-local address sandboxes must not reach).
    let hostAddress: String
    /// The namespace's end, where the server listens.
    let remoteAddress: String
    let port = 8000
    private var server: Process?

    init() throws {
        let tag = String(UUID().uuidString.lowercased().filter(\.isHexDigit).prefix(6))
        let subnet = Int.random(in: 1...250)
        namespace = "psq-\(tag)"
        hostInterface = "psqh\(tag)"
        hostAddress = "10.231.\(subnet).1"
        remoteAddress = "10.231.\(subnet).2"
        do {
            try Self.ip(["netns", "add", namespace])
            try Self.ip(["link", "add", hostInterface, "type", "veth", "peer", "name", "psqr\(tag)", "netns", namespace])
            try Self.ip(["addr", "add", "\(hostAddress)/24", "dev", hostInterface])
            try Self.ip(["link", "set", hostInterface, "up"])
            try Self.ip(["-n", namespace, "addr", "add", "\(remoteAddress)/24", "dev", "psqr\(tag)"])
            try Self.ip(["-n", namespace, "link", "set", "psqr\(tag)", "up"])
            try Self.ip(["-n", namespace, "link", "set", "lo", "up"])
        } catch {
            stop()
            throw error
        }
    }

    var baseURL: String { "http://\(remoteAddress):\(port)" }

    /// Serves `directory` over HTTP from inside the namespace until `stop()`.
    func serve(_ directory: URL) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = ["netns", "exec", namespace, "/usr/bin/python3", "-I", "-m", "http.server", String(port),
                             "--bind", remoteAddress, "--directory", directory.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        server = process
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if Self.canConnect(host: remoteAddress, port: port) { return }
            usleep(50_000)
        }
        throw WorkerTestError("test index server in \(namespace) did not start")
    }

    func stop() {
        if let server, server.isRunning {
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
        }
        try? Self.ip(["link", "del", hostInterface])
        try? Self.ip(["netns", "del", namespace])
    }

    /// Every IPv4 address of the host's interfaces.
    static func hostAddresses() -> [String] {
        let output = (try? ip(["-o", "-4", "addr", "show"])) ?? ""
        return output.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard let index = fields.firstIndex(of: "inet"), index + 1 < fields.count else { return nil }
            return fields[index + 1].split(separator: "/").first.map(String.init)
        }
    }

    static func canConnect(host: String, port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    @discardableResult
    static func ip(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw WorkerTestError("ip \(arguments.joined(separator: " ")): \(text)") }
        return text
    }
}

/// A plain HTTP server on the host's loopback, standing in for a database or admin service bound there.
final class LoopbackServer: @unchecked Sendable {
    let port: Int
    private let process = Process()

    init() throws {
        port = Int.random(in: 20_000...40_000)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-I", "-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", "/var/empty"]
        if !FileManager.default.fileExists(atPath: "/var/empty") {
            process.arguments = ["-I", "-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", NSTemporaryDirectory()]
        }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while !TestNetwork.canConnect(host: "127.0.0.1", port: port) {
            if Date() > deadline { throw WorkerTestError("loopback server did not start") }
            usleep(50_000)
        }
    }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}
