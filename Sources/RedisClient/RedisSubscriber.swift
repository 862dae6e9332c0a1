import Logging
import NIOCore
import NIOPosix
import Timing

/// Listens to pub/sub channels on a connection of its own, and comes back by itself after
/// the connection is lost.
///
/// Messages published while it was away are lost (pub/sub keeps nothing), so it calls
/// `onReconnect` each time it has subscribed again: the place to look for anything missed.
package struct RedisSubscriber: Sendable {
    /// A message published on a channel.
    package struct Message: Sendable, Hashable {
        package var channel: String
        package var payload: ByteBuffer
    }

    package let configuration: RedisConfiguration
    package let channels: [String]
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger

    package init(
        _ configuration: RedisConfiguration, channels: [String],
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger
    ) {
        self.configuration = configuration
        self.channels = channels
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
    }

    /// Runs until the task is cancelled: subscribes, hands every message to `onMessage`,
    /// and reconnects with backoff whenever the connection is lost.
    package func run(
        onMessage: @escaping @Sendable (Message) -> Void,
        onReconnect: @escaping @Sendable () -> Void = {}
    ) async {
        var failures = 0
        while !Task.isCancelled {
            let (stream, continuation) = AsyncStream.makeStream(of: RESPValue.self)
            do {
                let connection = try await RedisConnection.connect(configuration, eventLoopGroup: eventLoopGroup) { push in
                    continuation.yield(push)
                }
                connection.channel.closeFuture.whenComplete { _ in continuation.finish() }
                var encoder = RESPCommandEncoder(allocator: connection.channel.allocator)
                encoder.start("SUBSCRIBE")
                encoder.append(contentsOf: channels)
                encoder.finish()
                connection.writeExpectingPushReplies(encoder)
                await withTaskCancellationHandler {
                    for await push in stream {
                        guard let message = Self.message(push) else {
                            // Redis confirms each channel on its own, with the count subscribed so
                            // far: only the last confirmation means the subscription is whole.
                            if Self.kind(of: push) == "subscribe", push.elements?.last?.int64 == Int64(Set(channels).count) {
                                if failures > 0 { logger.notice("subscribed to Redis again") }
                                failures = 0
                                onReconnect()
                            }
                            continue
                        }
                        onMessage(message)
                    }
                } onCancel: {
                    connection.channel.close(promise: nil)
                }
            } catch {
                if failures == 0 {
                    logger.warning("cannot subscribe on Redis; retrying", metadata: ["error": "\(error.message)"])
                }
            }
            continuation.finish()
            failures += 1
            // One step further along than the pool's reconnects: even the first wait after a
            // lost subscription is twice the base delay.
            let delay = configuration.reconnectBackoff.delay(afterFailure: failures + 1)
            try? await Task.sleep(for: delay)
        }
    }

    static func kind(of push: RESPValue) -> String? {
        push.elements?.first?.string
    }

    static func message(_ push: RESPValue) -> Message? {
        guard let elements = push.elements, elements.count == 3, elements[0].string == "message",
              let channel = elements[1].string, case .bulkString(let payload) = elements[2] else { return nil }
        return Message(channel: channel, payload: payload)
    }
}
