import Foundation
import PipsqueakCore

/// File-level chores of the package store.
enum StoreFiles {
    /// Total size and count of regular files under a directory.
    static func totals(of directory: URL) -> (bytes: Int64, files: Int) {
        var bytes: Int64 = 0
        var files = 0
        let enumerator = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.isRegularFileKey, .fileSizeKey])
        while let url = enumerator?.nextObject() as? URL {
            guard let values = try? url.resourceValues(forKeys: [.isRegularFileKey, .fileSizeKey]), values.isRegularFile == true else { continue }
            bytes += Int64(values.fileSize ?? 0)
            files += 1
        }
        return (bytes, files)
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    static func writeMeta(_ package: InstalledPackage, in directory: URL, sealed: Bool = false) throws {
        let url = directory.appendingPathComponent("meta.json")
        if sealed { chmod(directory.path, 0o755) }
        defer { if sealed { chmod(directory.path, 0o555); chmod(url.path, 0o444) } }
        try AtomicFile.write(try encoder.encode(package), to: url)
    }

    /// Hands the tree to root and removes every write permission: installed packages are read-only.
    static func sealReadOnly(_ directory: URL) throws {
        let enumerator = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.isDirectoryKey, .isSymbolicLinkKey])
        var paths: [(String, Bool)] = []
        while let url = enumerator?.nextObject() as? URL {
            let values = try url.resourceValues(forKeys: [.isDirectoryKey, .isSymbolicLinkKey])
            if values.isSymbolicLink == true {
                lchown(url.path, 0, 0)
                continue
            }
            paths.append((url.path, values.isDirectory == true))
        }
        for (path, isDirectory) in paths {
            chown(path, 0, 0)
            var info = stat()
            stat(path, &info)
            let executable = isDirectory || (info.st_mode & 0o111) != 0
            chmod(path, executable ? 0o555 : 0o444)
        }
        chown(directory.path, 0, 0)
        chmod(directory.path, 0o555)
    }
}

/// The install cache's eviction rule, as a pure function.
public enum InstallCachePolicy {
    /// Least-recently-used distributions not in use, until the total fits `budgetBytes`.
    public static func evictions(_ packages: [(ref: PackageRef, lastUsed: Date, bytes: Int64)], inUse: Set<PackageRef>,
                                 budgetBytes: Int64) -> [PackageRef] {
        var total = packages.reduce(Int64(0)) { $0 + $1.bytes }
        var victims: [PackageRef] = []
        for package in packages.filter({ !inUse.contains($0.ref) }).sorted(by: { ($0.lastUsed, $0.ref) < ($1.lastUsed, $1.ref) }) {
            if total <= budgetBytes { break }
            victims.append(package.ref)
            total -= package.bytes
        }
        return victims
    }
}
