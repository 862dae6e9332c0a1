import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PromptlineCore

/// How answers and failures of an OpenAI-compatible API become ``UpstreamError``s.
///
/// Messages name the cause and the upstream's `host:port`; they never include headers, the
/// request or the description of a transport error (which may quote header values).
extension UpstreamError {
    /// An HTTP error status, with the OpenAI error body's message (or a snippet of a body
    /// that is not one) and the wait the headers ask for.
    static func httpStatus(
        _ status: Int, reason: String, headers: HTTPHeaders, body: ByteBuffer?, now: Date = Date()
    ) -> UpstreamError {
        var message = reason
        var errorType: String?
        if let body, body.readableBytes > 0 {
            let bytes = Data(body.readableBytesView)
            if let decoded = try? JSONDecoder().decode(OpenAIErrorResponse.self, from: bytes) {
                errorType = Self.errorType(type: decoded.error.type, code: decoded.error.code)
                message = decoded.error.message.isEmpty ? (errorType ?? reason) : snippet(decoded.error.message)
            } else {
                message = snippet(String(decoding: bytes, as: UTF8.self))
            }
        }
        if message.isEmpty { message = "HTTP \(status)" }
        return UpstreamError(
            .status(status), message: message, errorType: errorType,
            retryAfter: RetryAfter.parse(headers: headers, status: status, now: now)
        )
    }

    /// An `error` object the upstream sent inside a `200` answer (a stream's event, or a
    /// body in place of a completion), classified by its type and code.
    static func embedded(_ detail: OpenAIErrorResponse.Detail) -> UpstreamError {
        let errorType = errorType(type: detail.type, code: detail.code)
        let message = detail.message.isEmpty ? (errorType ?? "unknown error") : snippet(detail.message)
        return UpstreamError(
            .status(embeddedStatus(type: detail.type, code: detail.code)),
            message: "\(message) (reported inside the answer)", errorType: errorType
        )
    }

    /// `insufficient_quota` wherever the body puts it (OpenAI sends it as the `type` and the
    /// `code`), else the `type`, else the `code`.
    static func errorType(type: String?, code: String?) -> String? {
        if type == "insufficient_quota" || code == "insufficient_quota" { return "insufficient_quota" }
        return type ?? code
    }

    /// The HTTP status an error inside an answer stands for.
    static func embeddedStatus(type: String?, code: String?) -> Int {
        if let code, let status = Int(code), (400...599).contains(status) { return status }
        let words = [type, code].compactMap { $0?.lowercased() }
        func mentions(_ fragment: String) -> Bool { words.contains { $0.contains(fragment) } }
        if mentions("insufficient_quota") || mentions("rate_limit") { return 429 }
        if mentions("invalid_request") || mentions("context_length") { return 400 }
        if mentions("authentication") || mentions("invalid_api_key") { return 401 }
        if mentions("permission") { return 403 }
        if mentions("not_found") { return 404 }
        return 500
    }

    /// A failure to reach the upstream or to read its answer (also used by the command-line
    /// client for a Promptline server).
    package static func transport(_ error: any Error, endpoint: String) -> UpstreamError {
        if let error = error as? UpstreamError { return error }
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout:
                return UpstreamError(.connectionFailed, message: "could not connect to \(endpoint) in time")
            case .getConnectionFromPoolTimeout:
                return UpstreamError(.timedOut, message: "timed out waiting for a free connection to \(endpoint)")
            case .readTimeout:
                return UpstreamError(.timedOut, message: "timed out waiting for data from \(endpoint)")
            case .deadlineExceeded:
                return UpstreamError(.timedOut, message: "timed out waiting for an answer from \(endpoint)")
            case .remoteConnectionClosed:
                return UpstreamError(.connectionFailed, message: "connection closed by \(endpoint)")
            case .tlsHandshakeTimeout:
                return UpstreamError(.connectionFailed, message: "TLS handshake with \(endpoint) timed out")
            case .invalidURL, .emptyHost, .emptyScheme:
                return UpstreamError(.connectionFailed, message: "the upstream URL is invalid")
            case .alreadyShutdown:
                return UpstreamError(.connectionFailed, message: "the HTTP client is shut down")
            default:
                break
            }
        }
        if let error = error as? ChannelError {
            switch error {
            case .connectTimeout:
                return UpstreamError(.connectionFailed, message: "could not connect to \(endpoint) in time")
            case .ioOnClosedChannel, .eof, .outputClosed, .inputClosed, .alreadyClosed:
                return UpstreamError(.connectionFailed, message: "connection closed by \(endpoint)")
            default:
                break
            }
        }
        let typeName = String(reflecting: type(of: error))
        // NIOPosix's NIOConnectionError (not a dependency of this module): "DNS error: …"
        // when the name did not resolve, else the socket errors of each address tried.
        if typeName.hasSuffix("NIOConnectionError"), String(describing: error).hasPrefix("DNS error") {
            return UpstreamError(.connectionFailed, message: "could not resolve the host of \(endpoint)")
        }
        if let ioError = findIOError(in: error) {
            return UpstreamError(.connectionFailed, message: socketMessage(errno: ioError.errnoCode, endpoint: endpoint))
        }
        if typeName.contains("SSL") || typeName.contains("TLS") {
            return UpstreamError(.connectionFailed, message: "TLS with \(endpoint) failed")
        }
        if typeName.hasSuffix("NIOConnectionError") {
            return UpstreamError(.connectionFailed, message: "could not connect to \(endpoint)")
        }
        return UpstreamError(.connectionFailed, message: "request to \(endpoint) failed")
    }

    /// A message naming a socket error, e.g. "connection refused to 127.0.0.1:9100".
    static func socketMessage(errno code: CInt, endpoint: String) -> String {
        switch code {
        case ECONNREFUSED: "connection refused to \(endpoint)"
        case ECONNRESET: "connection reset by \(endpoint)"
        case EPIPE: "connection to \(endpoint) broken"
        case ETIMEDOUT: "connection to \(endpoint) timed out"
        case EHOSTUNREACH, ENETUNREACH: "\(endpoint) is unreachable"
        default: "connection to \(endpoint) failed: \(String(cString: strerror(code)))"
        }
    }

    /// The socket error somewhere inside `value` (NIO wraps them in connection errors).
    private static func findIOError(in value: Any, depth: Int = 0) -> IOError? {
        if let error = value as? IOError { return error }
        guard depth < 5 else { return nil }
        for child in Mirror(reflecting: value).children {
            if let found = findIOError(in: child.value, depth: depth + 1) { return found }
        }
        return nil
    }

    /// The same error with every occurrence of `secret` in its message masked.
    func redacting(_ secret: String?) -> UpstreamError {
        guard let secret, !secret.isEmpty, message.contains(secret) else { return self }
        var copy = self
        copy.message = message.replacingOccurrences(of: secret, with: "[redacted]")
        return copy
    }

    /// `text` on one line, at most `limit` characters.
    static func snippet(_ text: String, limit: Int = 300) -> String {
        let oneLine = text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        guard oneLine.count > limit else { return oneLine }
        return oneLine.prefix(limit) + "…"
    }
}
