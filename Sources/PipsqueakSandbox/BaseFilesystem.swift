import Foundation
import SandboxSetup

/// The read-only base every sandbox shares: the host's (or a rootfs's) /usr, /lib*, /bin and /sbin.
enum BaseFilesystem {
    static let topLevel = ["usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"]

    /// System package directories of Debian's python, hidden from handlers.
    static func pythonSystemPackageDirectories(under root: String) -> [String] {
        var masks = ["/usr/lib/python3/dist-packages"]
        for base in ["/usr/local/lib", "/usr/lib"] {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: root + base)) ?? []
            for entry in entries.sorted() where entry.hasPrefix("python3") {
                masks.append("\(base)/\(entry)/dist-packages")
                masks.append("\(base)/\(entry)/site-packages")
            }
        }
        return masks
    }

    static func layout(rootfs: String) -> (binds: [SandboxConfiguration.Bind], links: [SandboxConfiguration.Link], masks: [String]) {
        let root = rootfs.isEmpty ? "" : (rootfs.hasSuffix("/") ? String(rootfs.dropLast()) : rootfs)
        var binds: [SandboxConfiguration.Bind] = []
        var links: [SandboxConfiguration.Link] = []
        for name in topLevel {
            let path = "\(root)/\(name)"
            if let destination = try? FileManager.default.destinationOfSymbolicLink(atPath: path) {
                links.append(.init(path: "/\(name)", destination: destination))
            } else {
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                    binds.append(.init(source: path, target: "/\(name)"))
                }
            }
        }
        return (binds, links, pythonSystemPackageDirectories(under: root))
    }
}
