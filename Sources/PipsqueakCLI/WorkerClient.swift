import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A small HTTP client for the worker API, shared by the client subcommands.
struct WorkerClient {
    let baseURL: String

    struct Reply {
        var status: Int
        var headers: HTTPHeaders
        var body: Data

        var json: Any? { try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]) }
        var text: String { String(decoding: body, as: UTF8.self) }

        /// The worker's `{"error": {...}}` message, or the raw body.
        var errorMessage: String {
            if let object = json as? [String: Any], let error = object["error"] as? [String: Any] {
                var message = "\(error["code"] ?? "error"): \(error["message"] ?? "")"
                if let traceback = error["traceback"] as? String, !traceback.isEmpty { message += "\n" + traceback }
                return message
            }
            return "HTTP \(status): \(text)"
        }
    }

    func send(_ method: HTTPMethod, _ path: String, body: [UInt8]? = nil, contentType: String = "application/json",
              timeout: TimeAmount = .seconds(900)) async throws -> Reply {
        var request = HTTPClientRequest(url: baseURL.trimmingSuffix("/") + path)
        request.method = method
        if let body {
            request.body = .bytes(ByteBuffer(bytes: body))
            request.headers.add(name: "Content-Type", value: contentType)
        }
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: timeout)
        } catch {
            throw CLIError("cannot reach the worker at \(baseURL): \(error). Is `pipsqueak worker` running?")
        }
        let bytes = try await response.body.collect(upTo: 512 << 20)
        return Reply(status: Int(response.status.code), headers: response.headers, body: Data(bytes.readableBytesView))
    }
}

struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String { hasSuffix(suffix) ? String(dropLast(suffix.count)) : self }
}
