import NIOCore

extension RedisChannelHandler {
    /// The connection's states and its queue of replies still owed, free of I/O so that it
    /// can be tested on its own.
    ///
    /// Redis answers commands in the order it got them, so the queue is first in, first out:
    /// each reply goes to the oldest command still waiting. A reply nobody waits for
    /// (outside pub/sub) means the stream can no longer be trusted, and so does a command
    /// past its deadline (its reply may still come and would be taken for the next one's):
    /// both close the connection and fail everything still waiting.
    struct StateMachine<Promise> {
        struct Pending {
            var promise: Promise
            var deadline: NIODeadline
        }

        private enum State {
            case active(CircularBuffer<Pending>)
            case closed(RedisClientError)
        }

        private var state: State = .active(CircularBuffer(initialCapacity: 16))

        enum SendAction {
            /// Write the command.
            case write
            /// The connection is closed: fail these at once.
            case fail([Promise], RedisClientError)
        }

        /// A command is about to be written; `promises` wait for its replies, one each.
        mutating func send(_ promises: [Promise], deadline: NIODeadline) -> SendAction {
            switch state {
            case .active(var pending):
                state = .closed(RedisClientError(.protocolError, "reentrant state change")) // no copy-on-write
                for promise in promises { pending.append(Pending(promise: promise, deadline: deadline)) }
                state = .active(pending)
                return .write
            case .closed(let error):
                return .fail(promises, error)
            }
        }

        enum ReceiveAction {
            /// The reply to the oldest command waiting.
            case reply(Promise)
            /// A message Redis sent on its own (pub/sub).
            case push
            /// A reply nobody waits for: close the connection and fail these.
            case close([Promise], RedisClientError)
            /// The connection is closed already; drop the value.
            case ignore
        }

        mutating func receive(_ value: RESPValue) -> ReceiveAction {
            guard case .active(var pending) = state else { return .ignore }
            if case .push = value { return .push }
            if pending.isEmpty {
                if Self.isPubSubMessage(value) { return .push }
                let error = RedisClientError(.protocolError, "a reply arrived for no command: \(String(describing: value).prefix(100))")
                state = .closed(error)
                return .close([], error)
            }
            state = .closed(RedisClientError(.protocolError, "reentrant state change"))
            let first = pending.removeFirst()
            state = .active(pending)
            return .reply(first.promise)
        }

        enum TimerAction {
            /// Nothing waits: no timer needed.
            case none
            /// Check again at this time.
            case schedule(NIODeadline)
            /// The oldest command is past its deadline: close and fail these.
            case close([Promise], RedisClientError)
        }

        /// When to check for a command past its deadline next, as of `now`.
        mutating func checkDeadlines(now: NIODeadline) -> TimerAction {
            guard case .active(let pending) = state, let oldest = pending.first else { return .none }
            // Replies come in order, so only the oldest command's deadline matters; a later
            // command with an earlier deadline is checked once the oldest is answered.
            if oldest.deadline <= now {
                let error = RedisClientError(.timeout, "no reply from Redis in time; closing the connection")
                return .close(closed(with: error), error)
            }
            return .schedule(oldest.deadline)
        }

        /// The connection closed (or is being closed): every waiting promise, to be failed.
        mutating func closed(with error: RedisClientError) -> [Promise] {
            switch state {
            case .active(let pending):
                state = .closed(error)
                return pending.map(\.promise)
            case .closed:
                return []
            }
        }

        var isClosed: Bool {
            if case .closed = state { true } else { false }
        }

        var waitingCount: Int {
            if case .active(let pending) = state { pending.count } else { 0 }
        }

        /// RESP2 has no push type: on a subscribed connection, messages are arrays whose
        /// first element names their kind.
        static func isPubSubMessage(_ value: RESPValue) -> Bool {
            guard case .array(let elements) = value, let kind = elements.first?.string else { return false }
            switch kind {
            case "message", "pmessage", "smessage", "subscribe", "psubscribe", "unsubscribe", "punsubscribe": return true
            default: return false
            }
        }
    }
}
