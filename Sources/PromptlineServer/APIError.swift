import Foundation
import Hummingbird
import PromptlineCore

/// An error answered to a client: a status and a message that says what is wrong.
///
/// On `/api/…` routes it is rendered as `{"detail": "…"}` (FastAPI's shape), on
/// `/v1/…` routes as OpenAI's `{"error": {"message", "type", "code"}}` (see ``ErrorMiddleware``).
package struct APIError: Error, HTTPResponseError, Sendable {
    package var status: HTTPResponse.Status
    package var message: String
    /// Extra headers, such as `Retry-After`.
    package var headers: HTTPFields

    package init(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.message = message
        self.headers = headers
    }

    package func response(from request: Request, context: some RequestContext) throws -> Response {
        let body: any Encodable = request.uri.path.hasPrefix("/v1/")
            ? OpenAIErrorBody(error: .init(message: message, type: Self.openAIType(for: status), code: nil))
            : DetailBody(detail: message)
        var response = try JSONBody.response(body, status: status)
        response.headers.append(contentsOf: headers)
        return response
    }

    /// An upstream call that got no usable answer: 504 when it timed out, else 502, naming the cause.
    static func upstream(_ error: UpstreamError, _ what: String = "upstream") -> APIError {
        APIError(error.code == .timedOut ? .gatewayTimeout : .badGateway, "\(what): \(error.description)")
    }

    static func openAIType(for status: HTTPResponse.Status) -> String {
        switch status.code {
        case 401: "authentication_error"
        case 403: "permission_error"
        case 404: "not_found_error"
        case 429: "rate_limit_error"
        case 400..<500: "invalid_request_error"
        default: "server_error"
        }
    }
}

struct DetailBody: Encodable {
    var detail: String
}

struct OpenAIErrorBody: Encodable {
    /// OpenAI's error: `param` and `code` are always there, `null` when they say nothing.
    struct Detail: Encodable {
        var message: String
        var type: String
        var param: String? = nil
        var code: String?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(message, forKey: .message)
            try container.encode(type, forKey: .type)
            try container.encode(param, forKey: .param)
            try container.encode(code, forKey: .code)
        }

        enum CodingKeys: String, CodingKey { case message, type, param, code }
    }
    var error: Detail
}

/// Turns every error a route throws into the route family's error shape, so that no client
/// ever sees Hummingbird's default body or a bare 500.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as StoreUnavailableError {
            // Nothing was changed; the client may try again once the store is back.
            var headers = HTTPFields()
            headers[.retryAfter] = String(max(1, Int(error.retryAfter.seconds.rounded(.up))))
            throw APIError(.serviceUnavailable, "the task store is unavailable: \(error.message); try again shortly", headers: headers)
        } catch let error as HTTPError {
            let message: String = switch error.status {
            case .notFound: "no route for \(request.method) \(request.uri.path)"
            case .methodNotAllowed: "method \(request.method) is not allowed on \(request.uri.path)"
            case .contentTooLarge: "request body is too large"
            default: error.body ?? error.status.reasonPhrase
            }
            throw APIError(error.status, message, headers: error.headers)
        } catch let error as any HTTPResponseError {
            throw APIError(error.status, error.status.reasonPhrase)
        } catch {
            context.logger.error("unexpected error answering a request", metadata: ["error": "\(error)"])
            throw APIError(.internalServerError, "internal error; the server's log has the details")
        }
    }
}
