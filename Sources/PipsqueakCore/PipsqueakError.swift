/// The one error type of Pipsqueak, with an extensible code that maps onto an HTTP status.
public struct PipsqueakError: Error, CustomStringConvertible, Sendable {
    /// A stable, machine-readable error code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        /// The HTTP status this code is reported with.
        public let status: Int

        public init(_ name: String, status: Int) {
            self.name = name
            self.status = status
        }

        public var description: String { name }

        public static let invalidName = Code("invalid_name", status: 400)
        public static let invalidJSON = Code("invalid_json", status: 400)
        public static let invalidArchive = Code("invalid_archive", status: 400)
        public static let invalidManifest = Code("invalid_manifest", status: 400)
        public static let invalidRequest = Code("invalid_request", status: 400)
        public static let notFound = Code("not_found", status: 404)
        public static let unresolvableRequirements = Code("unresolvable_requirements", status: 422)
        public static let installFailed = Code("install_failed", status: 422)
        public static let payloadTooLarge = Code("payload_too_large", status: 413)
        public static let handlerError = Code("handler_error", status: 502)
        public static let handlerCrashed = Code("handler_crashed", status: 502)
        public static let outOfMemory = Code("out_of_memory", status: 502)
        public static let badResponse = Code("bad_handler_response", status: 502)
        public static let overloaded = Code("overloaded", status: 503)
        public static let shuttingDown = Code("shutting_down", status: 503)
        public static let timeout = Code("timeout", status: 504)
        public static let sandboxFailed = Code("sandbox_failed", status: 500)
        public static let internalError = Code("internal", status: 500)
    }

    public var code: Code
    public var message: String
    /// Extra structured detail for the JSON body, such as a handler's exception and traceback.
    public var details: [String: String]

    public init(_ code: Code, _ message: String, details: [String: String] = [:]) {
        self.code = code
        self.message = message
        self.details = details
    }

    public var description: String { "\(code): \(message)" }
}
