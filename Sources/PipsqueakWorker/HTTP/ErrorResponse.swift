import Foundation
import Hummingbird
import PipsqueakCore

extension PipsqueakError: ResponseGenerator {}
extension PipsqueakError: HTTPResponseError {
    public var status: HTTPResponse.Status { HTTPResponse.Status(code: code.status) }

    /// `{"error": {"code", "message", ...details}}`
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var body: [String: String] = details
        body["code"] = code.name
        body["message"] = message
        let data = (try? JSONSerialization.data(withJSONObject: ["error": body], options: [.sortedKeys])) ?? Data()
        var headers: HTTPFields = [.contentType: "application/json"]
        if code == .overloaded { headers[.retryAfter] = "1" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
