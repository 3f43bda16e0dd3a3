import Foundation
import Hummingbird
import Logging
import NIOCore

/// `pipbench serve`: an HTTP PyPI mirror for any PEP 503 tree (a generated index or a bandersnatch `web/` folder).
///
/// GET and HEAD only; `ETag`/`If-None-Match`, single `Range` requests (206/416), 404 for unknown paths,
/// 403 for traversal attempts, and content negotiation between the HTML and PEP 691 JSON index forms.
public struct MirrorServer: Sendable {
    public let resolver: FileResolver
    public let host: String
    public let port: Int

    public init(root: URL, host: String = "127.0.0.1", port: Int) {
        self.resolver = FileResolver(root: root)
        self.host = host
        self.port = port
    }

    /// Serves until cancelled (or SIGINT/SIGTERM when `handleSignals`); `onReady` gets the bound port.
    public func run(handleSignals: Bool = false, onReady: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        let app = application(onReady: onReady)
        if handleSignals { try await app.runService() } else { try await app.run() }
    }

    /// The server as a Hummingbird application, to run in a `ServiceGroup` of the caller's.
    public func application(onReady: @escaping @Sendable (Int) -> Void = { _ in }) -> Application<CallbackResponder<BasicRequestContext>> {
        let resolver = self.resolver
        var logger = Logger(label: "pipbench.serve")
        logger.logLevel = .warning
        return Application(
            responder: CallbackResponder<BasicRequestContext> { request, _ in
                Self.respond(to: request, resolver: resolver)
            },
            configuration: .init(address: .hostname(host, port: port)),
            onServerRunning: { channel in onReady(channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }

    static func respond(to request: Request, resolver: FileResolver) -> Response {
        guard request.method == .get || request.method == .head else {
            return text(.methodNotAllowed, "method not allowed\n", extra: [.allow: "GET, HEAD"])
        }
        switch resolver.resolve(path: request.uri.path, accept: request.headers[.accept]) {
        case .forbidden:
            return text(.forbidden, "forbidden: path escapes the served directory\n")
        case .notFound:
            return text(.notFound, "not found\n")
        case .redirect(let location):
            return text(.movedPermanently, "moved\n", extra: [.location: location])
        case .file(let path, let contentType):
            return serveFile(path, contentType: contentType, request: request)
        }
    }

    static func serveFile(_ path: String, contentType: String, request: Request) -> Response {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let size = (attributes[.size] as? NSNumber)?.intValue,
              let handle = FileHandle(forReadingAtPath: path) else {
            return text(.notFound, "not found\n")
        }
        defer { try? handle.close() }
        let modified = (attributes[.modificationDate] as? Date) ?? Date(timeIntervalSince1970: 0)
        let etag = "\"\(String(size, radix: 16))-\(String(Int64(modified.timeIntervalSince1970 * 1_000_000), radix: 16))\""
        var headers: HTTPFields = [.contentType: contentType, .eTag: etag, .acceptRanges: "bytes", .vary: "Accept"]
        headers[.lastModified] = httpDate(modified)
        if let match = request.headers[.ifNoneMatch], match.split(separator: ",").contains(where: {
            let tag = $0.trimmingCharacters(in: .whitespaces)
            return tag == etag || tag == "W/" + etag || tag == "*"
        }) {
            return Response(status: .notModified, headers: headers)
        }
        var status = HTTPResponse.Status.ok
        var lower = 0, upper = size - 1
        switch ByteRange.parse(request.headers[.range], size: size) {
        case .whole:
            break
        case .unsatisfiable:
            headers[.contentRange] = "bytes */\(size)"
            return text(.rangeNotSatisfiable, "range not satisfiable\n", extra: headers)
        case .partial(let l, let u):
            status = .partialContent
            lower = l
            upper = u
            headers[.contentRange] = "bytes \(l)-\(u)/\(size)"
        }
        let length = max(upper - lower + 1, 0)
        headers[.contentLength] = String(length)
        if request.method == .head { return Response(status: status, headers: headers) }
        do {
            try handle.seek(toOffset: UInt64(lower))
            let data = try handle.read(upToCount: length) ?? Data()
            return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(data: data)))
        } catch {
            return text(.internalServerError, "read failed\n")
        }
    }

    static func text(_ status: HTTPResponse.Status, _ body: String, extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func httpDate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: date)
    }
}
