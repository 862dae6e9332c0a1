import EventLoopExecutor
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// Hummingbird's HTTP/1.1 channel, with each connection's requests handled on the
/// connection's own event loop (``EventLoopTaskExecutor``) instead of the global pool.
///
/// A handler therefore holds its loop while it computes: the few that work through large
/// bodies (``offLoop(_:)``) step off it for that part.
struct LoopBoundHTTP1Channel: ServerChildChannel {
    let inner: HTTP1Channel

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<HTTP1Channel.Value> {
        inner.setup(channel: channel, logger: logger)
    }

    func handle(value: HTTP1Channel.Value, logger: Logger) async {
        await withTaskExecutorPreference(EventLoopTaskExecutor(value.channel.eventLoop)) {
            await inner.handle(value: value, logger: logger)
        }
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1, each connection's requests handled on its own event loop.
    static var loopBoundHTTP1: HTTPServerBuilder {
        .init { responder in LoopBoundHTTP1Channel(inner: HTTP1Channel(responder: responder)) }
    }
}

/// Runs `body` on the global pool instead of the connection's event loop: for work that
/// grows with a body or a file of megabytes (a batch file checked line by line, a large
/// batch of prompts decoded), which would hold up every other connection of that loop.
func offLoop<T>(_ body: () async throws -> T) async throws -> T {
    try await withTaskExecutorPreference(globalConcurrentExecutor, operation: body)
}

/// ``offLoop(_:)`` for a whole route handler.
func offLoop<Context: RequestContext>(
    _ handler: @escaping @Sendable (Request, Context) async throws -> Response
) -> @Sendable (Request, Context) async throws -> Response {
    { request, context in try await offLoop { try await handler(request, context) } }
}
