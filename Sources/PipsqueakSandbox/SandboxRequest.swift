import PipsqueakCore

/// What one handler instance's sandbox holds and how it is limited.
public struct SandboxRequest: Sendable {
    public var handler: String
    /// Host directory with the handler's code, mounted read-only at `/handler`.
    public var codeDirectory: String
    public var entry: String
    public var memoryMB: Int
    /// Limit for loading the handler code (the runtime's start).
    public var startTimeoutSeconds: Double
    public var network: HandlerManifest.Network
    public var environment: [String: String]
    /// Extra read-only host directories and where they appear, such as installed packages.
    public var extraBinds: [(host: String, sandbox: String)]
    /// Directories added to the handler's `sys.path`, inside the sandbox.
    public var pythonPaths: [String]
    /// The installed distributions among `extraBinds`, for the store's bookkeeping.
    public var packages: [PackageRef]

    public init(
        handler: String, codeDirectory: String, entry: String = "f.f", memoryMB: Int = 256,
        startTimeoutSeconds: Double = 30, network: HandlerManifest.Network = .none,
        environment: [String: String] = [:], extraBinds: [(host: String, sandbox: String)] = [], pythonPaths: [String] = [],
        packages: [PackageRef] = []
    ) {
        self.packages = packages
        self.handler = handler
        self.codeDirectory = codeDirectory
        self.entry = entry
        self.memoryMB = memoryMB
        self.startTimeoutSeconds = startTimeoutSeconds
        self.network = network
        self.environment = environment
        self.extraBinds = extraBinds
        self.pythonPaths = pythonPaths
    }
}

/// What a handler invocation produced.
public enum InvocationOutcome: Sendable, Equatable {
    /// The JSON the handler returned.
    case result([UInt8])
    /// The handler raised; its exception type, message and traceback.
    case raised(HandlerFailure)
}

/// An exception raised in handler code.
public struct HandlerFailure: Codable, Sendable, Equatable {
    public var type: String
    public var message: String
    public var traceback: String

    public init(type: String, message: String, traceback: String) {
        self.type = type
        self.message = message
        self.traceback = traceback
    }
}
