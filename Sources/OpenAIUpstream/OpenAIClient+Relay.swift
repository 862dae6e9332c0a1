import NIOCore
import NIOHTTP1
import PromptlineCore

/// An upstream's answer to a call relayed as is, for Promptline's own OpenAI-compatible API.
package struct RelayedResponse: Sendable {
    package enum Body: Sendable {
        /// The whole body, read.
        case whole(ByteBuffer)
        /// A `text/event-stream` still arriving; read it with ``OpenAIClient/relayEvents(of:write:)``.
        case events(UpstreamBody)
    }

    package var status: Int
    /// The upstream's `content-type`.
    package var contentType: String?
    package var body: Body
    /// The failure an error status stands for, classified (rate limit, its wait, …); `nil` on success.
    package var failure: UpstreamError?
}

extension OpenAIClient {
    /// Sends `body` to `{baseURL}{path}` as it is (with the upstream's API key) and answers
    /// the upstream's status and body. A streamed success is handed over unread; anything
    /// else is read whole, within the timeout.
    ///
    /// - Throws: ``UpstreamError`` when no answer came (connection failed, timed out).
    package func relay(_ method: HTTPMethod, path: String, body: ByteBuffer?, streaming: Bool) async throws -> RelayedResponse {
        let start = ContinuousClock.now
        do {
            let response = try await send(method, path: path, streaming: streaming, body: body, timeout: configuration.timeout)
            let answer = try await relayed(response, streaming: streaming)
            metrics.call(since: start, failure: answer.failure)
            return answer
        } catch let error as UpstreamError {
            let error = error.redacting(configuration.apiKey)
            metrics.call(since: start, failure: error)
            throw error
        }
    }

    private func relayed(_ response: UpstreamResponse, streaming: Bool) async throws -> RelayedResponse {
        let status = Int(response.head.status.code)
        let contentType = response.head.headers.first(name: "content-type")
        let success = (200..<300).contains(status)
        if success, streaming, !(contentType?.lowercased().contains("json") ?? false) {
            return RelayedResponse(status: status, contentType: contentType, body: .events(response.body))
        }
        let limit = success ? Self.maximumAnswerBytes : Self.maximumErrorBodyBytes
        let bytes: ByteBuffer
        do {
            bytes = try await response.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw Self.tooLarge(endpoint: endpoint, limit: limit)
        } catch {
            throw Task.isCancelled ? CancellationError() : UpstreamError.transport(error, endpoint: endpoint)
        }
        let failure = success ? nil : UpstreamError.httpStatus(
            status, reason: response.head.status.reasonPhrase, headers: response.head.headers, body: bytes
        )
        return RelayedResponse(status: status, contentType: contentType, body: .whole(bytes), failure: failure)
    }

    /// Relays a stream of server-sent events event by event, as they arrive: each batch of
    /// whole events goes to `write` in wire format, ending with `data: [DONE]`.
    ///
    /// - Throws: ``UpstreamError`` `.timedOut` when no event arrives within the timeout, and
    ///   `.incompleteStream` when the stream ends before `[DONE]`; what was relayed until then
    ///   stays relayed. Errors thrown by `write` (the client went away) end the relay.
    ///
    /// `beforeDone`, when given, is written just before the `data: [DONE]` event (a grounded
    /// answer's `citations` event).
    package func relayEvents(of body: UpstreamBody, beforeDone: ByteBuffer? = nil, write: (ByteBuffer) async throws -> Void) async throws {
        do {
            try await forwardEvents(of: body, beforeDone: beforeDone, write: write)
        } catch let error as UpstreamError {
            metrics.count(error)
            throw error
        }
    }

    private func forwardEvents(of body: UpstreamBody, beforeDone: ByteBuffer?, write: (ByteBuffer) async throws -> Void) async throws {
        let timer = AttemptTimer(timeout: configuration.timeout, limit: nil)
        timer.eventArrived()
        let (chunks, source) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    for try await chunk in body { source.yield(chunk) }
                    source.finish()
                } catch {
                    if Task.isCancelled { return source.finish(throwing: CancellationError()) }
                    let cause = UpstreamError.transport(error, endpoint: self.endpoint)
                    source.finish(throwing: cause.code == .timedOut ? cause : UpstreamError(
                        .incompleteStream, message: "stream from \(self.endpoint) broke off before [DONE] (\(cause.message))"))
                }
            }
            group.addTask {
                do {
                    _ = try await timer.expire()
                } catch let error as UpstreamError {
                    source.finish(throwing: error)
                }
            }
            defer { group.cancelAll() }
            var parser = ServerSentEventParser()
            var events = 0
            for try await chunk in chunks {
                let parsed: [ServerSentEvent]
                do {
                    parsed = try parser.feed(chunk)
                } catch {
                    throw UpstreamError(.invalidResponse, message: "stream from \(endpoint) sent a \(error)")
                }
                guard !parsed.isEmpty else { continue }
                timer.eventArrived()
                var out = ByteBuffer()
                for event in parsed {
                    events += 1
                    if event.data == "[DONE]" {
                        if let beforeDone { out.writeImmutableBuffer(beforeDone) }
                        event.write(into: &out)
                        try await write(out)
                        return
                    }
                    event.write(into: &out)
                }
                try await write(out)
            }
            throw UpstreamError(.incompleteStream, message: "stream from \(endpoint) ended before [DONE] after \(events) events")
        }
    }
}
