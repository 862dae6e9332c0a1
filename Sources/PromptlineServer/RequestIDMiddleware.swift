import HTTPTypes
import Hummingbird
import Logging

/// Gives every request an id: the client's `X-Request-Id` when it is sane, else the one
/// Hummingbird made. It is answered in `X-Request-Id` (error answers included) and carried
/// as `request_id` in the request's log lines; Hummingbird's own `hb.request.id` is set to
/// the same value, so that the two never disagree.
struct RequestIDMiddleware<Context: RequestContext>: RouterMiddleware {
    static var headerName: HTTPField.Name { HTTPField.Name("X-Request-Id")! }
    /// The longest client id kept.
    static var maximumLength: Int { 128 }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let id: String
        if let given = request.headers[Self.headerName].flatMap(Self.sane) {
            id = given
            context.logger[metadataKey: "hb.request.id"] = .string(id)
        } else {
            id = context.id
        }
        context.logger[metadataKey: "request_id"] = .string(id)
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers[Self.headerName] = id
        return response
    }

    /// The client's id when it is 1 to 128 letters, digits and `-_.:`; `nil` otherwise
    /// (an id that could break a log line or a header is not taken).
    static func sane(_ id: String) -> String? {
        guard (1...maximumLength).contains(id.utf8.count) else { return nil }
        let allowed = id.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: ":"):
                true
            default:
                false
            }
        }
        return allowed ? id : nil
    }
}
