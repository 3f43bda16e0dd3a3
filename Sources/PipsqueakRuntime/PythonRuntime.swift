import Foundation

/// The Python programs that run inside sandboxes, shipped as package resources: `runtime.py` serves one
/// handler; `zygote.py` is the import cache's fork server, which imports packages once and forks handler
/// runtimes from itself.
public enum PythonRuntime {
    public static let runtimeFile = "runtime.py"
    public static let zygoteFile = "zygote.py"
    static let files = [runtimeFile, zygoteFile]

    /// Source of one of `files`.
    public static func source(of file: String = runtimeFile) throws -> Data {
        let name = (file as NSString).deletingPathExtension
        guard let url = Bundle.module.url(forResource: name, withExtension: "py", subdirectory: "python") else {
            throw CocoaError(.fileNoSuchFile)
        }
        return try Data(contentsOf: url)
    }

    /// Writes every runtime file into `directory` (world-readable, atomically), which sandboxes mount read-only.
    public static func install(into directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        chmod(directory.path, 0o755)
        for file in files {
            let target = directory.appendingPathComponent(file)
            let temporary = directory.appendingPathComponent(".\(file).\(UUID().uuidString.prefix(8))")
            try source(of: file).write(to: temporary)
            chmod(temporary.path, 0o644)
            guard rename(temporary.path, target.path) == 0 else {
                try? FileManager.default.removeItem(at: temporary)
                throw CocoaError(.fileWriteUnknown)
            }
        }
    }
}
