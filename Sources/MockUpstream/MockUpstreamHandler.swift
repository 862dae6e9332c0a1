import Logging
import NIOCore
import NIOHTTP1

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Answers the requests of one connection. `HTTPServerPipelineHandler` sits in front of it, so
/// pipelined requests arrive one at a time, each after the previous answer has ended.
final class MockUpstreamHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Bodies larger than this are answered `413`.
    static let maximumBodySize = 32 * 1024 * 1024

    private let state: MockUpstreamState
    private let modelsBody: String
    private let logger: Logger
    private let decoder = JSONDecoder()

    private var requestHead: HTTPRequestHead?
    /// The HTTP version of the request being answered.
    private var version: HTTPVersion = .http1_1
    private var requestBody: ByteBuffer?
    private var bodyTooLarge = false
    /// False once the connection is gone: scheduled work then does nothing.
    private var isActive = true
    private var scheduled: Scheduled<Void>?
    private var stream: StreamProgress?

    /// A streamed answer under way.
    private struct StreamProgress {
        let answer: ChatAnswer
        let prefix: ByteBuffer
        let includeUsage: Bool
        let tokenDelay: Duration
        let cut: Bool
        let keepAlive: Bool
        var stall: Duration?
        var nextToken = 0
    }

    init(state: MockUpstreamState, modelsBody: String, logger: Logger) {
        self.state = state
        self.modelsBody = modelsBody
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            requestHead = head
            version = head.version
            requestBody = nil
            bodyTooLarge = false
            if head.headers[canonicalForm: "expect"].contains(where: { $0.lowercased() == "100-continue" }) {
                context.writeAndFlush(
                    wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))),
                    promise: nil
                )
            }
        case .body(var part):
            guard !bodyTooLarge else { return }
            if (requestBody?.readableBytes ?? 0) + part.readableBytes > Self.maximumBodySize {
                bodyTooLarge = true
                requestBody = nil
            } else if requestBody == nil {
                requestBody = part
            } else {
                requestBody!.writeBuffer(&part)
            }
        case .end:
            guard let head = requestHead else { return }
            requestHead = nil
            let body = requestBody
            requestBody = nil
            route(head, body: body, context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stop()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("mock-upstream connection error", metadata: ["error": "\(error)"])
        stop()
        context.close(promise: nil)
    }

    private func stop() {
        isActive = false
        scheduled?.cancel()
        scheduled = nil
        stream = nil
    }

    // MARK: Routing

    private func route(_ head: HTTPRequestHead, body: ByteBuffer?, context: ChannelHandlerContext) {
        let uri = head.uri.utf8
        let queryStart = uri.firstIndex(of: UInt8(ascii: "?"))
        let path = Substring(head.uri[..<(queryStart ?? uri.endIndex)])
        let query = queryStart.map { Substring(head.uri[uri.index(after: $0)...]) } ?? ""
        let keepAlive = head.isKeepAlive

        switch (head.method, path) {
        case (.POST, "/v1/chat/completions"), (.POST, "/chat/completions"):
            chatCompletion(head, body: body, context: context)
        case (.POST, "/v1/embeddings"), (.POST, "/embeddings"):
            embeddings(head, body: body, context: context)
        case (.GET, "/v1/models"), (.GET, "/models"):
            var buffer = context.channel.allocator.buffer(capacity: modelsBody.utf8.count)
            buffer.writeString(modelsBody)
            writeJSON(status: .ok, body: buffer, keepAlive: keepAlive, context: context)
        case (.GET, "/mock/calls"):
            guard let prompt = Self.queryValue(named: "prompt", in: query) else {
                let reply = MockErrorReply.invalidRequest("'prompt' is a required query parameter.")
                writeError(reply, keepAlive: keepAlive, context: context)
                return
            }
            var buffer = context.channel.allocator.buffer(capacity: 128)
            MockWire.writeCalls(prompt: prompt, entry: state.entry(forPrompt: prompt), into: &buffer)
            writeJSON(status: .ok, body: buffer, keepAlive: keepAlive, context: context)
        case (.GET, "/mock/stats"):
            var buffer = context.channel.allocator.buffer(capacity: 256)
            MockWire.writeStats(state.summary, into: &buffer)
            writeJSON(status: .ok, body: buffer, keepAlive: keepAlive, context: context)
        case (.POST, "/mock/reset"):
            state.reset()
            var buffer = context.channel.allocator.buffer(capacity: 16)
            buffer.writeStaticString(#"{"reset":true}"#)
            writeJSON(status: .ok, body: buffer, keepAlive: keepAlive, context: context)
        case (_, "/v1/chat/completions"), (_, "/chat/completions"), (_, "/v1/embeddings"), (_, "/embeddings"),
            (_, "/v1/models"), (_, "/models"),
            (_, "/mock/calls"), (_, "/mock/stats"), (_, "/mock/reset"):
            var reply = MockErrorReply.invalidRequest("Method \(head.method) is not allowed on \(path).")
            reply.status = 405
            writeError(reply, keepAlive: keepAlive, context: context)
        default:
            var reply = MockErrorReply.invalidRequest("Invalid URL (\(head.method) \(path)).")
            reply.status = 404
            writeError(reply, keepAlive: keepAlive, context: context)
        }
    }

    /// The request's body, decoded and checked; `nil` when it was answered with an error.
    private func read<Body: MockRequestBody>(
        _ type: Body.Type, _ body: ByteBuffer?, keepAlive: Bool, context: ChannelHandlerContext
    ) -> Body? {
        if bodyTooLarge {
            state.recordUnreadableCall()
            var reply = MockErrorReply.invalidRequest("The request body is larger than \(Self.maximumBodySize) bytes.")
            reply.status = 413
            writeError(reply, keepAlive: keepAlive, context: context)
            return nil
        }
        let request: Body
        do {
            let data = body.map { $0.withUnsafeReadableBytes { Data($0) } } ?? Data()
            request = try decoder.decode(Body.self, from: data)
        } catch {
            state.recordUnreadableCall()
            writeError(.invalidRequest(Body.describe(error)), keepAlive: keepAlive, context: context)
            return nil
        }
        if let problem = request.problem {
            state.recordUnreadableCall()
            writeError(.invalidRequest(problem), keepAlive: keepAlive, context: context)
            return nil
        }
        return request
    }

    // MARK: Chat completions

    private func chatCompletion(_ head: HTTPRequestHead, body: ByteBuffer?, context: ChannelHandlerContext) {
        let keepAlive = head.isKeepAlive
        guard let request = read(ChatRequest.self, body, keepAlive: keepAlive, context: context) else { return }

        let prompt = request.lastUserText
        let plan = state.plan(
            forPrompt: prompt, directive: MockDirective(in: prompt), at: Date().timeIntervalSince1970
        )
        let stall = plan.stall ?? .zero
        // Calls in flight per `user`: from here until the answer starts.
        let user = request.user
        if let user { state.begin(user: user) }
        let answered: @Sendable () -> Void = { [state] in if let user { state.end(user: user) } }
        switch plan.outcome {
        case .reset:
            after(plan.latency + stall, context: context) { [self] in
                answered()
                reset(context: context)
            }
        case .error(let reply):
            after(plan.latency + stall, context: context) { [self] in
                answered()
                writeError(reply, keepAlive: keepAlive, context: context)
            }
        case .answer where request.stream:
            let id = state.nextCompletionID()
            let created = Int(Date().timeIntervalSince1970)
            let progress = StreamProgress(
                answer: ChatAnswer(for: request),
                prefix: MockWire.chunkPrefix(
                    id: id, created: created, model: request.model, allocator: context.channel.allocator
                ),
                includeUsage: request.includeUsage, tokenDelay: plan.tokenDelay, cut: plan.cut,
                keepAlive: keepAlive, stall: plan.stall
            )
            after(plan.latency, context: context) { [self] in
                answered()
                startStream(progress, context: context)
            }
        case .answer:
            let answer = ChatAnswer(for: request)
            after(plan.latency + stall, context: context) { [self] in
                answered()
                writeCompletion(answer, model: request.model, cut: plan.cut, keepAlive: keepAlive, context: context)
            }
        }
    }

    private func writeCompletion(
        _ answer: ChatAnswer, model: String, cut: Bool, keepAlive: Bool, context: ChannelHandlerContext
    ) {
        var buffer = context.channel.allocator.buffer(capacity: 384 + answer.contentLength)
        MockWire.writeCompletion(
            answer, id: state.nextCompletionID(), created: Int(Date().timeIntervalSince1970), model: model,
            into: &buffer
        )
        writeAnswer(buffer, cut: cut, keepAlive: keepAlive, context: context)
    }

    private func startStream(_ progress: StreamProgress, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "text/event-stream")
        headers.add(name: "cache-control", value: "no-cache")
        headers.add(name: "transfer-encoding", value: "chunked")
        addConnectionHeader(keepAlive: progress.keepAlive, to: &headers)
        let head = HTTPResponseHead(version: version, status: .ok, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        stream = progress
        continueStream(context: context)
    }

    /// Writes chunks until the stream ends, is cut, or must wait (a stall or the token delay).
    private func continueStream(context: ChannelHandlerContext) {
        guard var progress = stream else { return }
        var buffer = context.channel.allocator.buffer(capacity: 512)
        while progress.nextToken < progress.answer.tokens.count {
            MockWire.writeTokenChunk(
                progress.answer, index: progress.nextToken, prefix: progress.prefix, into: &buffer
            )
            progress.nextToken += 1
            if progress.cut, progress.nextToken >= min(2, progress.answer.tokens.count) {
                stream = nil
                closeAfter(context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(buffer)))), context: context)
                return
            }
            let pause: Duration
            if let stall = progress.stall {
                progress.stall = nil
                pause = stall
            } else {
                pause = progress.tokenDelay
            }
            if pause > .zero {
                stream = progress
                context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
                after(pause, context: context) { [self] in continueStream(context: context) }
                return
            }
        }
        stream = nil
        MockWire.writeFinishChunk(progress.answer, prefix: progress.prefix, into: &buffer)
        if progress.includeUsage {
            MockWire.writeUsageChunk(progress.answer, prefix: progress.prefix, into: &buffer)
        }
        MockWire.writeDone(into: &buffer)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        end(keepAlive: progress.keepAlive, context: context)
    }

    // MARK: Embeddings

    /// `POST /v1/embeddings`: ``MockEmbedding`` vectors; a directive in the input text makes
    /// faults as for chat (a stall delays the answer, `cut` breaks its body).
    private func embeddings(_ head: HTTPRequestHead, body: ByteBuffer?, context: ChannelHandlerContext) {
        let keepAlive = head.isKeepAlive
        guard let request = read(EmbeddingRequest.self, body, keepAlive: keepAlive, context: context) else { return }
        let prompt = request.prompt
        let plan = state.plan(forPrompt: prompt, directive: MockDirective(in: prompt), at: Date().timeIntervalSince1970)
        let delay = plan.latency + (plan.stall ?? .zero)
        switch plan.outcome {
        case .reset:
            after(delay, context: context) { [self] in reset(context: context) }
        case .error(let reply):
            after(delay, context: context) { [self] in writeError(reply, keepAlive: keepAlive, context: context) }
        case .answer:
            let dimensions = request.dimensions ?? MockEmbedding.defaultDimensions
            let vectors = request.texts.map { MockEmbedding.vector(for: $0, dimensions: dimensions) }
            let tokens = request.texts.reduce(0) { $0 + ChatAnswer.wordCount(of: $1) }
            var buffer = context.channel.allocator.buffer(capacity: 128 + vectors.count * dimensions * 12)
            MockWire.writeEmbeddings(
                vectors, format: request.encodingFormat, model: request.model, promptTokens: tokens, into: &buffer
            )
            after(delay, context: context) { [self] in
                writeAnswer(buffer, cut: plan.cut, keepAlive: keepAlive, context: context)
            }
        }
    }

    // MARK: Writing

    /// A `200` JSON answer; `cut`: the connection closes half-way through its body.
    private func writeAnswer(_ buffer: ByteBuffer, cut: Bool, keepAlive: Bool, context: ChannelHandlerContext) {
        var buffer = buffer
        guard cut else {
            writeJSON(status: .ok, body: buffer, keepAlive: keepAlive, context: context)
            return
        }
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "content-length", value: String(buffer.readableBytes))
        let head = HTTPResponseHead(version: version, status: .ok, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        let half = buffer.readSlice(length: buffer.readableBytes / 2)!
        closeAfter(context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(half)))), context: context)
    }

    private func writeError(_ reply: MockErrorReply, keepAlive: Bool, context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: 256)
        MockWire.writeError(reply, into: &buffer)
        var headers = HTTPHeaders()
        if let milliseconds = reply.retryAfterMilliseconds {
            headers.add(name: "retry-after-ms", value: String(milliseconds))
            headers.add(name: "retry-after", value: String((milliseconds + 999) / 1000))
        }
        writeJSON(
            status: HTTPResponseStatus(statusCode: reply.status), headers: headers, body: buffer,
            keepAlive: keepAlive, context: context
        )
    }

    private func writeJSON(
        status: HTTPResponseStatus, headers: HTTPHeaders = [:], body: ByteBuffer, keepAlive: Bool,
        context: ChannelHandlerContext
    ) {
        var headers = headers
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "content-length", value: String(body.readableBytes))
        addConnectionHeader(keepAlive: keepAlive, to: &headers)
        let head = HTTPResponseHead(version: version, status: status, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        end(keepAlive: keepAlive, context: context)
    }

    /// `connection: close` when the connection ends after this answer; `keep-alive` for HTTP/1.0 clients that asked.
    private func addConnectionHeader(keepAlive: Bool, to headers: inout HTTPHeaders) {
        if !keepAlive {
            headers.add(name: "connection", value: "close")
        } else if version.minor == 0 {
            headers.add(name: "connection", value: "keep-alive")
        }
    }

    private func end(keepAlive: Bool, context: ChannelHandlerContext) {
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            closeAfter(context.writeAndFlush(wrapOutboundOut(.end(nil))), context: context)
        }
    }

    private func closeAfter(_ write: EventLoopFuture<Void>, context: ChannelHandlerContext) {
        write.assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    /// Closes the connection with a TCP reset (SO_LINGER 0), without a byte of answer.
    private func reset(context: ChannelHandlerContext) {
        stop()
        guard let provider = context.channel as? any SocketOptionProvider else {
            context.close(promise: nil)
            return
        }
        provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    /// Runs `work` after `delay` on the event loop (at once when there is no delay), unless the
    /// connection has gone by then.
    private func after(_ delay: Duration, context: ChannelHandlerContext, _ work: @escaping () -> Void) {
        guard delay > .zero else {
            work()
            return
        }
        scheduled = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(delay)) { [self] in
            scheduled = nil
            guard isActive else { return }
            work()
        }
    }

    // MARK: Query strings

    /// The percent-decoded value of the first `name=` parameter of `query` (`+` reads as a space).
    static func queryValue(named name: String, in query: Substring) -> String? {
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard percentDecoded(parts[0]) == name else { continue }
            return parts.count > 1 ? percentDecoded(parts[1]) : ""
        }
        return nil
    }

    static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"):
                bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    return nil
                }
                bytes.append(high << 4 | low)
            default:
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
