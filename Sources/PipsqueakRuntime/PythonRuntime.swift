import Foundation

/// The Python runtime that runs inside every sandbox, shipped as a package resource.
public enum PythonRuntime {
    /// Source of `runtime.py`: loads a handler once, then serves events over the runtime socket.
    public static func source() throws -> Data {
        guard let url = Bundle.module.url(forResource: "runtime", withExtension: "py", subdirectory: "python") else {
            throw CocoaError(.fileNoSuchFile)
        }
        return try Data(contentsOf: url)
    }
}
