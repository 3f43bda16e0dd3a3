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
    /// Any failed `chown`, `chmod` or `lchown` is an error, so a package is never shared while still writable.
    static func sealReadOnly(_ directory: URL) throws(PipsqueakError) {
        let enumerator = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.isDirectoryKey, .isSymbolicLinkKey])
        var paths: [(String, Bool)] = []
        while let url = enumerator?.nextObject() as? URL {
            guard let values = try? url.resourceValues(forKeys: [.isDirectoryKey, .isSymbolicLinkKey]) else {
                throw PipsqueakError(.installFailed, "cannot inspect \(url.path) while sealing the package")
            }
            if values.isSymbolicLink == true {
                try checked(lchown(url.path, 0, 0), "lchown", url.path)
                continue
            }
            paths.append((url.path, values.isDirectory == true))
        }
        for (path, isDirectory) in paths {
            try checked(chown(path, 0, 0), "chown", path)
            var info = stat()
            try checked(lstat(path, &info), "stat", path)
            let executable = isDirectory || (info.st_mode & 0o111) != 0
            try checked(chmod(path, executable ? 0o555 : 0o444), "chmod", path)
        }
        try checked(chown(directory.path, 0, 0), "chown", directory.path)
        try checked(chmod(directory.path, 0o555), "chmod", directory.path)
    }

    /// Turns a failed file-permission call into an install error naming the call and the path.
    static func checked(_ result: Int32, _ call: String, _ path: String) throws(PipsqueakError) {
        if result != 0 {
            throw PipsqueakError(.installFailed, "\(call) \(path): \(String(cString: strerror(errno)))")
        }
    }
}
