import AsyncHTTPClient
import NIOCore

/// Requests sent on a fixed schedule, whatever the answers do: a slow answer never delays
/// the next request, so latency counts from when the schedule said to send and is not
/// hidden by coordinated omission.
///
/// Scheduling, sending and timing all happen on the client's one event loop, where its
/// connections are too: no hop to the Swift concurrency pool and back per request,
/// which on a small machine costs more CPU, and adds more noise, than the HTTP itself.
struct OpenLoop: Sendable {
    /// One request's fate.
    struct Sample: Sendable {
        var index: Int
        /// Which of the targets it went to.
        var target: Int
        /// From when the schedule said to send to the last byte of the answer.
        var latency: Duration
        /// From when the schedule said to send to when it was sent: the client's own delay.
        var lag: Duration
        var finished: NIODeadline
        /// Why it does not count as answered: a status other than 200, an error, or what
        /// `check` found.
        var failure: String?
    }

    var client: HTTPClient
    /// Where the schedule runs and the answers are timed: the only loop of the client's
    /// group, so that its connections are on it too. (Requiring the loop per request instead,
    /// `.delegateAndChannel(on:)`, makes AsyncHTTPClient close each connection it opens for
    /// such a request after one use: in the proxy bench about ten new connections a second,
    /// and with a loop other than the last run's, hundreds, doubling every process's CPU time
    /// per request.)
    var loop: any EventLoop
    /// The requests to send, without their bodies.
    var targets: [HTTPClient.Request]
    /// Requests in all, and per second.
    var count: Int
    var rate: Int
    /// The target of request `index`.
    var target: @Sendable (Int) -> Int
    /// The body of request `index`.
    var body: @Sendable (Int) -> ByteBuffer
    /// What is wrong with a 200 answer, if anything.
    var check: @Sendable (HTTPClient.Response) -> String? = { _ in nil }

    /// When request `index` is due after `start`.
    func due(_ index: Int, after start: NIODeadline) -> NIODeadline {
        start + .nanoseconds(Int64(index) * 1_000_000_000 / Int64(rate))
    }

    /// Sends every request, the first at `start`, and answers the samples once all have ended.
    func run(startingAt start: NIODeadline) async throws -> [Sample] {
        let loop = loop
        let promise = loop.makePromise(of: [Sample].self)
        loop.execute {
            Runner(plan: self, loop: loop, start: start, promise: promise).tick()
        }
        return try await promise.futureResult.get()
    }

    /// The state of one run; lives and is touched on its event loop only.
    private final class Runner {
        let plan: OpenLoop
        let loop: any EventLoop
        let start: NIODeadline
        let promise: EventLoopPromise<[Sample]>
        var next = 0
        var samples: [Sample] = []

        init(plan: OpenLoop, loop: any EventLoop, start: NIODeadline, promise: EventLoopPromise<[Sample]>) {
            self.plan = plan
            self.loop = loop
            self.start = start
            self.promise = promise
            samples.reserveCapacity(plan.count)
        }

        /// Sends what is due (all of it at once after a late wake-up) and waits for the next.
        func tick() {
            guard plan.count > 0 else { return promise.succeed([]) }
            let now = NIODeadline.now()
            while next < plan.count, plan.due(next, after: start) <= now {
                send(next)
                next += 1
            }
            if next < plan.count {
                loop.assumeIsolated().scheduleTask(deadline: plan.due(next, after: start)) { self.tick() }
            }
        }

        private func send(_ index: Int) {
            let due = plan.due(index, after: start)
            let target = plan.target(index)
            var request = plan.targets[target]
            request.body = .byteBuffer(plan.body(index))
            let sent = NIODeadline.now()
            plan.client.execute(request: request, eventLoop: .delegate(on: loop), deadline: sent + .seconds(10))
                .assumeIsolated()
                .whenComplete { result in
                    let finished = NIODeadline.now()
                    var failure: String?
                    switch result {
                    case .success(let response) where response.status == .ok:
                        failure = self.plan.check(response)
                    case .success(let response):
                        failure = "\(response.status.code) \(response.body.map { String(buffer: $0).prefix(300) } ?? "")"
                    case .failure(let error):
                        failure = "\(error)"
                    }
                    self.samples.append(Sample(
                        index: index, target: target, latency: Duration(finished - due), lag: Duration(sent - due),
                        finished: finished, failure: failure))
                    if self.samples.count == self.plan.count { self.promise.succeed(self.samples) }
                }
        }
    }
}
