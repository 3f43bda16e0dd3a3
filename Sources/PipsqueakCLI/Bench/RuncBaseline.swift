import Foundation

/// The container-per-cold-start baseline: `runc run` of an OCI bundle with the handler's packages baked in,
/// running the same interpreter, imports and handler call as a fresh Pipsqueak start.
struct RuncBaseline {
    let runc: String
    let bundle: URL

    static func find() -> String? {
        ["/usr/sbin/runc", "/usr/bin/runc", "/usr/local/sbin/runc", "/usr/local/bin/runc"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    /// Builds a bundle: a read-only root of symlinks over the host's /usr, the packages at `/packages/<n>`, the
    /// handler at `/handler`, private pid, network, ipc, uts and mount namespaces, an unprivileged user.
    init(runc: String, handler: String, sites: [URL]) throws {
        self.runc = runc
        bundle = FileManager.default.temporaryDirectory.appendingPathComponent("pipsqueak-runc-\(UUID().uuidString.prefix(6))")
        let manager = FileManager.default
        let rootfs = bundle.appendingPathComponent("rootfs")
        for directory in ["usr", "proc", "dev", "tmp", "handler", "packages", "etc"] {
            try manager.createDirectory(at: rootfs.appendingPathComponent(directory), withIntermediateDirectories: true)
        }
        for name in ["bin", "sbin", "lib", "lib64"] {
            if let destination = try? manager.destinationOfSymbolicLink(atPath: "/\(name)") {
                try manager.createSymbolicLink(atPath: rootfs.appendingPathComponent(name).path, withDestinationPath: destination)
            }
        }
        let code = bundle.appendingPathComponent("handler")
        try manager.createDirectory(at: code, withIntermediateDirectories: true)
        try handler.write(to: code.appendingPathComponent("f.py"), atomically: true, encoding: .utf8)
        for path in [bundle.path, code.path, rootfs.path] { chmod(path, 0o755) }
        chmod(code.appendingPathComponent("f.py").path, 0o644)

        func bind(_ source: String, _ target: String) -> [String: Any] {
            ["destination": target, "type": "bind", "source": source, "options": ["rbind", "ro", "nosuid", "nodev"]]
        }
        var mounts: [[String: Any]] = [
            ["destination": "/proc", "type": "proc", "source": "proc"],
            ["destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]],
            ["destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "size=64m"]],
            bind("/usr", "/usr"), bind(code.path, "/handler"),
        ]
        var paths: [String] = ["/handler"]
        for (index, site) in sites.enumerated() {
            try manager.createDirectory(at: rootfs.appendingPathComponent("packages/\(index)"), withIntermediateDirectories: true)
            mounts.append(bind(site.path, "/packages/\(index)"))
            paths.append("/packages/\(index)")
        }
        let script = "import sys; sys.path[:0] = \(paths.map { "'\($0)'" }); import f; print(f.f({}))"
        let config: [String: Any] = [
            "ociVersion": "1.0.2",
            "process": [
                "terminal": false, "user": ["uid": 65534, "gid": 65534], "cwd": "/",
                "args": ["/usr/bin/python3", "-I", "-S", "-B", "-c", script],
                "env": ["PATH=/usr/bin:/bin", "HOME=/tmp", "LANG=C.UTF-8", "OPENBLAS_NUM_THREADS=1"],
                "noNewPrivileges": true,
                "capabilities": ["bounding": [], "effective": [], "permitted": []],
                "rlimits": [["type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024]],
            ] as [String: Any],
            "root": ["path": "rootfs", "readonly": true],
            "hostname": "baseline",
            "mounts": mounts,
            "linux": [
                "namespaces": [["type": "pid"], ["type": "network"], ["type": "ipc"], ["type": "uts"], ["type": "mount"]],
                "resources": ["memory": ["limit": 512 << 20], "pids": ["limit": 128]],
                "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list"],
                "readonlyPaths": ["/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus"],
            ] as [String: Any],
        ]
        try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted]).write(to: bundle.appendingPathComponent("config.json"))
    }

    /// One cold start: seconds from `runc run` to its exit, and what the handler printed.
    func coldStart(_ number: Int) throws -> (seconds: Double, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: runc)
        process.arguments = ["run", "--bundle", bundle.path, "pipsqueak-bench-\(getpid())-\(number)"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        let started = ContinuousClock.now
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let seconds = (ContinuousClock.now - started).inSeconds
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else { throw CLIError("runc run failed (\(process.terminationStatus)): \(text)") }
        return (seconds, text)
    }

    func remove() { try? FileManager.default.removeItem(at: bundle) }
}
