import Foundation
@testable import PipsqueakPackages
import PipsqueakCore
import Testing

@Suite struct StoreFilesTests {
    @Test(.enabled(if: geteuid() == 0, "needs root to chown to root"))
    func sealLeavesNothingWritable() throws {
        let directory = try temporaryTree()
        defer { unseal(directory); try? FileManager.default.removeItem(at: directory) }
        try StoreFiles.sealReadOnly(directory)
        for path in ["", "/pkg", "/pkg/__init__.py", "/pkg/run.sh"] {
            var info = stat()
            #expect(lstat(directory.path + path, &info) == 0)
            #expect(info.st_uid == 0, "\(path) belongs to root")
            #expect(info.st_mode & 0o222 == 0, "\(path) has no write bit: \(String(info.st_mode, radix: 8))")
        }
    }

    /// Regression (issue 12): failures of `chown`/`chmod` were ignored, so a package could be shared still writable.
    @Test(.enabled(if: geteuid() == 0, "needs root to mount a read-only tmpfs"))
    func sealFailsWhenPermissionsCannotChange() throws {
        let directory = try temporaryTree()
        defer {
            umount2(directory.path, 0)
            try? FileManager.default.removeItem(at: directory)
        }
        let contents = directory.appendingPathComponent("pkg")
        // Mount a read-only tmpfs holding a writable file over the tree, so chmod fails with EROFS.
        try #require(mount("tmpfs", directory.path, "tmpfs", 0, "size=1m,mode=0777") == 0)
        try FileManager.default.createDirectory(at: contents, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: contents.appendingPathComponent("mod.py").path, contents: Data("x=1\n".utf8),
                                       attributes: [.posixPermissions: 0o666])
        try #require(mount(nil, directory.path, nil, UInt(MS_REMOUNT | MS_RDONLY), nil) == 0)
        do {
            try StoreFiles.sealReadOnly(directory)
            Issue.record("sealing a tree whose permissions cannot change must fail")
        } catch {
            #expect(error.code == .installFailed)
            #expect(error.message.contains("Read-only file system"), "\(error)")
        }
    }

    private func temporaryTree() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("seal-\(UUID().uuidString.prefix(8))")
        let package = directory.appendingPathComponent("pkg")
        try FileManager.default.createDirectory(at: package, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: package.appendingPathComponent("__init__.py").path, contents: Data(),
                                       attributes: [.posixPermissions: 0o666])
        FileManager.default.createFile(atPath: package.appendingPathComponent("run.sh").path, contents: Data("#!/bin/sh\n".utf8),
                                       attributes: [.posixPermissions: 0o777])
        return directory
    }

    private func unseal(_ directory: URL) {
        let enumerator = FileManager.default.enumerator(atPath: directory.path)
        chmod(directory.path, 0o755)
        while let path = enumerator?.nextObject() as? String { chmod(directory.path + "/" + path, 0o755) }
    }
}
