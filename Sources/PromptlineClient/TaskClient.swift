import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OpenAIUpstream
import PromptlineCore

/// A client of a Promptline server's task API (`/api/tasks`), on AsyncHTTPClient.
///
/// Each method makes one request and throws a ``TaskClientError``; ``ServerRetry`` decides
/// whether to make it again.
package struct TaskClient: Sendable {
    /// Where the server is and how to call it.
    package struct Configuration: Sendable {
        /// The server's base URL without a trailing slash, e.g. `http://127.0.0.1:8000`. A
        /// path (a server behind a proxy at `/promptline`) is kept.
        package var server: String
        /// Sent as `Authorization: Bearer …` when set; never printed.
        package var apiKey: String?
        /// The longest one request may take.
        package var timeout: TimeAmount = .seconds(60)

        /// - Throws: ``TaskClientError`` (`invalidURL`) unless `server` is an http or https URL with a host.
        package init(server: String, apiKey: String? = nil) throws(TaskClientError) {
            guard let url = URL(string: server), ["http", "https"].contains(url.scheme?.lowercased()),
                  url.host?.isEmpty == false, url.query == nil
            else {
                throw TaskClientError(.invalidURL, message: "the server URL \"\(server)\" is not an http:// or https:// URL, such as http://127.0.0.1:8000")
            }
            var base = server
            while base.hasSuffix("/") { base.removeLast() }
            self.server = base
            self.apiKey = apiKey.flatMap { $0.isEmpty ? nil : $0 }
        }

        /// `host:port` of the server, for messages.
        var endpoint: String {
            guard let url = URL(string: server), let host = url.host else { return server }
            return url.port.map { "\(host):\($0)" } ?? host
        }
    }

    package let configuration: Configuration
    private let http: HTTPClient

    /// A client on an `HTTPClient` the caller owns and shuts down.
    package init(configuration: Configuration, http: HTTPClient) {
        self.configuration = configuration
        self.http = http
    }

    /// Runs `body` with a client on a connection pool of its own, shut down when `body`
    /// returns or throws. The pool reports a refused connection at once (``ServerRetry``
    /// decides about trying again) and follows no redirect, which could carry the API key
    /// to another host.
    package static func with<T>(_ configuration: Configuration, _ body: (TaskClient) async throws -> T) async throws -> T {
        var pool = HTTPClient.Configuration.ConnectionPool()
        pool.retryConnectionEstablishment = false
        let http = HTTPClient(
            eventLoopGroup: HTTPClient.defaultEventLoopGroup,
            configuration: HTTPClient.Configuration(
                redirectConfiguration: .disallow,
                timeout: .init(connect: .seconds(10), read: configuration.timeout),
                connectionPool: pool))
        let result: Result<T, any Error>
        do {
            result = .success(try await body(TaskClient(configuration: configuration, http: http)))
        } catch {
            result = .failure(error)
        }
        try? await http.shutdown()
        return try result.get()
    }

    /// `POST /api/tasks` with a body built by ``SubmissionChunk``.
    package func submit(body: String) async throws(TaskClientError) -> SubmitAnswer {
        try decode(SubmitAnswer.self, from: try await send(.POST, "/api/tasks", body: body))
    }

    /// `GET /api/tasks?task_ids=…`: the summary of each id (`not_found` for an unknown one).
    package func summaries(ids: [String]) async throws(TaskClientError) -> [String: TaskSummary] {
        let list = ids.map(Self.escaped).joined(separator: ",")
        let answer = try decode([String: TaskSummary].self, from: try await send(.GET, "/api/tasks?task_ids=\(list)"))
        for id in ids where answer[id] == nil {
            throw TaskClientError(.invalidAnswer, message: "no entry for task \(id)")
        }
        return answer
    }

    /// `GET /api/tasks/{id}`: one task in detail, and the JSON the server answered.
    /// An unknown or expired id throws a ``TaskClientError`` with status 404.
    package func task(id: String) async throws(TaskClientError) -> (detail: TaskDetail, json: Data) {
        let data = try await send(.GET, "/api/tasks/\(Self.escaped(id))")
        return (try decode(TaskDetail.self, from: data), data)
    }

    /// Sends one request; answers the body of a 2xx answer, throws for anything else.
    func send(_ method: HTTPMethod, _ path: String, body: String? = nil) async throws(TaskClientError) -> Data {
        try await send(method, path, body: body.map { ByteBuffer(string: $0) }, contentType: "application/json")
    }

    /// Sends one request with a body of any type; answers the body of a 2xx answer.
    func send(_ method: HTTPMethod, _ path: String, body: ByteBuffer?, contentType: String) async throws(TaskClientError) -> Data {
        var request = HTTPClientRequest(url: configuration.server + path)
        request.method = method
        request.headers.add(name: "accept", value: "application/json")
        if let apiKey = configuration.apiKey {
            request.headers.add(name: "authorization", value: "Bearer \(apiKey)")
        }
        if let body {
            request.headers.add(name: "content-type", value: contentType)
            request.body = .bytes(body)
        }
        let status: Int
        let headers: HTTPHeaders
        let data: Data
        do {
            let response = try await http.execute(request, timeout: configuration.timeout)
            status = Int(response.status.code)
            headers = response.headers
            data = Data(try await response.body.collect(upTo: Self.maxAnswerSize).readableBytesView)
        } catch {
            let cause = UpstreamError.transport(error, endpoint: configuration.endpoint).message
            throw TaskClientError(.unreachable, message: "could not reach the server: \(cause)")
        }
        guard (200..<300).contains(status) else {
            throw TaskClientError(
                .status(status), message: Self.detail(of: data, status: status),
                retryAfter: RetryAfter.parse(headers: headers, status: status))
        }
        return data
    }

    func decode<T: Decodable>(_ type: T.Type, from data: Data) throws(TaskClientError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw TaskClientError(.invalidAnswer, message: "\(Self.snippet(data)) (\(error))")
        }
    }

    /// The largest answer read: a page of summaries holds whole results.
    static let maxAnswerSize = 256 << 20

    /// The `detail` of an `{"detail": …}` error body, or a snippet of any other body.
    static func detail(of data: Data, status: Int) -> String {
        if let detail = (try? JSONValue.parse(data))?["detail"] {
            return detail.string ?? detail.canonicalText
        }
        let text = snippet(data)
        return text.isEmpty ? HTTPResponseStatus(statusCode: status).reasonPhrase : text
    }

    /// `data` as text on one line, at most 300 characters.
    static func snippet(_ data: Data) -> String {
        let text = String(decoding: data.prefix(300), as: UTF8.self)
            .split(whereSeparator: \.isNewline).joined(separator: " ")
        return data.count > 300 ? text + "…" : text
    }

    /// An id as it may appear in a path segment or a comma-separated query value.
    static func escaped(_ id: String) -> String {
        id.addingPercentEncoding(withAllowedCharacters: unreserved) ?? id
    }

    private static let unreserved = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
}
