import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import PromptlineCore
import ServiceLifecycle

/// Delivers the one webhook of each submission that asked for one, once all its tasks have
/// finished: a signed JSON POST (``WebhookPayload``, ``WebhookSignature``).
///
/// Every instance runs one. The state of a delivery lives in the submission's record, so a
/// restart carries on where it was, and changes only by compare-and-replace: an instance
/// claims a POST (for the timeout and a margin) before it sends it, so only one instance
/// sends each attempt. A failed attempt (no answer, or not 2xx) is tried again after
/// `retryDelay`, doubled after each failure, up to `maxAttempts`; then it is given up and
/// logged. An instance that dies while its POST is in flight leaves a claim that runs out,
/// and another takes the delivery on: then, and only then, a receiver may get a second
/// POST for the same batch, with the same `X-Promptline-Delivery`.
///
/// POSTs run beside the scan, at most `concurrency` at once; workers are never involved.
///
/// Each POST first resolves and checks the URL's host again (``WebhookResolver``: an
/// address inside is a failed attempt) and then connects to the address that was checked,
/// never looking the name up a second time, so DNS rebinding cannot turn a checked name into
/// an internal address. AsyncHTTPClient has no per-request resolver, so each POST gets its own
/// short-lived client whose `dnsOverride` maps the host to that address: the request keeps
/// its URL, so the `Host` header is the URL's host, and for https the TLS server name (SNI)
/// and the certificate check are for the host name too, as without the override. The cost
/// is a new connection per POST, which a webhook (one per batch) can afford.
struct WebhookDispatcher: Service {
    struct Configuration: Sendable {
        var timeout: Duration = .seconds(10)
        var maxAttempts = 12
        var retryDelay: Duration = .seconds(1)
        var maxRetryDelay: Duration = .seconds(3_600)
        /// Time between two looks at the pending webhooks.
        var interval: Duration = .milliseconds(500)
        var concurrency = 16
        /// Tasks read per second at most while waiting for a big submission to finish.
        var readsPerSecond = 10_000

        /// The wait after a failed attempt: `retryDelay` after the first, twice as long after
        /// each next one, `maxRetryDelay` at most.
        func delay(afterAttempt attempt: Int) -> Duration {
            Backoff(base: retryDelay, maximum: maxRetryDelay).delay(afterFailure: attempt)
        }
    }

    let submissions: Submissions
    let tasks: any TaskStore
    let signature: WebhookSignature
    /// Checks each POST's host again and names the address to connect to.
    let resolver: WebhookResolver
    /// Where the POSTs' clients run.
    let eventLoopGroup: any EventLoopGroup
    let instanceID: String
    let configuration: Configuration
    let logger: Logger

    /// What the dispatcher knows of a submission whose tasks have not all finished. Kept in
    /// memory only: a restart reads them all again once.
    private struct Watch {
        /// The tasks not yet seen finished: only those are read again.
        var unfinished: [String]
        /// Nothing is read before then: the next look at the tasks, or the end of a backoff
        /// or of another instance's claim.
        var nextLook: ContinuousClock.Instant
    }

    /// A POST this instance has claimed.
    private struct Claim: Sendable {
        var batchID: String
        var submission: SubmissionRecord
        var attempt: Int
    }

    func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            var watched: [String: Watch] = [:]
            var failing = false
            /// Submissions that could not be looked at, each logged once.
            var unreadable = Set<String>()
            while !Task.isShuttingDownGracefully, !Task.isCancelled {
                do {
                    let ids = try await submissions.pendingWebhookIDs()
                    let pending = Set(ids)
                    watched = watched.filter { pending.contains($0.key) }
                    unreadable.formIntersection(pending)
                    for id in ids {
                        // A slot first: a claim runs out, so it is made only when its POST can start.
                        if running >= configuration.concurrency {
                            await group.next()
                            running -= 1
                        }
                        do {
                            guard let claim = try await claimIfDue(id, watched: &watched) else { continue }
                            unreadable.remove(id)
                            running += 1
                            group.addTask { await deliver(claim) }
                        } catch {
                            if unreadable.insert(id).inserted {
                                logger.error("could not look at a pending webhook; trying again", metadata: ["batch_id": "\(id)", "error": "\(error)"])
                            }
                        }
                    }
                    if failing { logger.notice("webhooks are watched again") }
                    failing = false
                } catch {
                    if !failing { logger.error("could not list the pending webhooks; trying again", metadata: ["error": "\(error)"]) }
                    failing = true
                }
                try? await Task.sleep(for: configuration.interval)
            }
            // The POSTs in flight end within their timeout.
        }
    }

    /// Claims the next POST of a submission when it is due and all its tasks have finished.
    /// The record is read only once the tasks have all been seen finished.
    private func claimIfDue(_ id: String, watched: inout [String: Watch]) async throws -> Claim? {
        let clock = ContinuousClock.now
        if let watch = watched[id] {
            guard clock >= watch.nextLook else { return nil }
            if !watch.unfinished.isEmpty {
                let next = try await look(at: watch.unfinished, at: clock)
                watched[id] = next
                guard next.unfinished.isEmpty else { return nil }
            }
        }
        guard let (submission, version) = try await submissions.submission(id),
              let webhook = submission.webhook, webhook.state == .pending
        else {
            try await submissions.dropPendingWebhook(id)
            watched[id] = nil
            return nil
        }
        if watched[id] == nil {
            let first = try await look(at: submission.taskIDs, at: clock)
            watched[id] = first
            guard first.unfinished.isEmpty else { return nil }
        }
        let now = Date()
        guard webhook.isDue(at: now) else {
            let until = [webhook.notBefore, webhook.claimedUntil].compactMap { $0 }.max() ?? now
            watched[id]?.nextLook = clock + .seconds(max(0, until.timeIntervalSince(now)))
            return nil
        }
        var claimed = submission
        claimed.webhook?.attempts += 1
        claimed.webhook?.claimedBy = instanceID
        claimed.webhook?.claimedUntil = now + (configuration.timeout + .seconds(10)).seconds
        guard try await submissions.replace(id, with: claimed, ifVersion: version) != nil else { return nil }
        return Claim(batchID: id, submission: claimed, attempt: webhook.attempts + 1)
    }

    /// Reads tasks; a big submission's next look comes later, so that at most
    /// `readsPerSecond` tasks are read per second for it.
    private func look(at ids: [String], at clock: ContinuousClock.Instant) async throws -> Watch {
        let records = try await tasks.tasks(ids: ids)
        let unfinished = ids.filter { records[$0].map { !$0.status.isFinished } ?? false }
        let every = max(configuration.interval, .seconds(Double(unfinished.count) / Double(configuration.readsPerSecond)))
        return Watch(unfinished: unfinished, nextLook: clock + every)
    }

    /// Sends one POST of a claimed delivery and records how it went.
    private func deliver(_ claim: Claim) async {
        guard let url = claim.submission.webhook?.url else { return }
        let host = URL(string: url)?.host ?? "?"
        var failure: String?
        do {
            let records = try await tasks.tasks(ids: claim.submission.taskIDs)
            let body = try JSONBody.encoder.encode(WebhookPayload(batchID: claim.batchID, submission: claim.submission, records: records))
            let target = try await resolver.target(for: url)
            let status = try await send(request(url: url, body: body, claim: claim), to: target)
            if !(200..<300).contains(status) { failure = "the receiver answered \(status)" }
        } catch {
            failure = "\(error)"
        }
        do {
            try await record(claim, failure: failure, host: host)
        } catch {
            // The claim runs out and the delivery is taken up again.
            logger.error("could not record a webhook delivery", metadata: ["batch_id": "\(claim.batchID)", "error": "\(error)"])
        }
    }

    /// Sends `request` to `target.address` only, with a client made for it and shut down
    /// after; answers the receiver's status code.
    private func send(_ request: HTTPClientRequest, to target: WebhookTarget) async throws -> Int {
        // A redirect is a failed delivery: the signed body goes where it was asked to, only.
        var settings = HTTPClient.Configuration(redirectConfiguration: .disallow)
        if !target.isLiteral { settings.dnsOverride = [target.host: target.address.description] }
        let client = HTTPClient(eventLoopGroup: eventLoopGroup, configuration: settings, backgroundActivityLogger: logger)
        let outcome: Result<Int, any Error>
        do {
            let response = try await client.execute(request, timeout: TimeAmount(configuration.timeout))
            // The receiver's answer is not read beyond its status.
            _ = try? await response.body.collect(upTo: 64 * 1024)
            outcome = .success(Int(response.status.code))
        } catch {
            outcome = .failure(error)
        }
        try? await client.shutdown()
        return try outcome.get()
    }

    private func request(url: String, body: Data, claim: Claim) -> HTTPClientRequest {
        let timestamp = Int(Date().timeIntervalSince1970)
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "Promptline-Webhook")
        request.headers.add(name: "X-Promptline-Event", value: "batch.finished")
        request.headers.add(name: "X-Promptline-Delivery", value: claim.batchID)
        request.headers.add(name: "X-Promptline-Attempt", value: String(claim.attempt))
        request.headers.add(name: WebhookSignature.timestampHeader, value: String(timestamp))
        request.headers.add(name: WebhookSignature.signatureHeader, value: signature.signature(timestamp: timestamp, body: body))
        request.body = .bytes(ByteBuffer(bytes: body))
        return request
    }

    /// Ends the delivery (delivered, or given up after the last attempt), or puts it back
    /// to wait for the next attempt. Does nothing when another instance has taken it over.
    private func record(_ claim: Claim, failure: String?, host: String) async throws {
        let metadata: Logger.Metadata = ["batch_id": "\(claim.batchID)", "webhook_host": "\(host)", "attempt": "\(claim.attempt)"]
        while true {
            guard let (submission, version) = try await submissions.submission(claim.batchID),
                  var webhook = submission.webhook, webhook.state == .pending,
                  webhook.claimedBy == instanceID, webhook.attempts == claim.attempt
            else {
                logger.warning("a webhook delivery was taken over by another instance meanwhile", metadata: metadata)
                return
            }
            let now = Date()
            webhook.claimedBy = nil
            webhook.claimedUntil = nil
            webhook.lastError = failure
            if failure == nil {
                webhook.state = .delivered
                webhook.endedAt = now
            } else if claim.attempt >= configuration.maxAttempts {
                webhook.state = .failed
                webhook.endedAt = now
            } else {
                webhook.notBefore = now + configuration.delay(afterAttempt: claim.attempt).seconds
            }
            var changed = submission
            changed.webhook = webhook
            guard try await submissions.replace(claim.batchID, with: changed, ifVersion: version) != nil else { continue }
            switch webhook.state {
            case .delivered:
                logger.info("webhook delivered", metadata: metadata)
            case .failed:
                logger.error("webhook given up after its last attempt", metadata: metadata.merging(["error": "\(failure ?? "")"]) { $1 })
            case .pending:
                logger.notice("webhook delivery failed; trying again later", metadata: metadata.merging([
                    "error": "\(failure ?? "")", "retry_in_seconds": "\(configuration.delay(afterAttempt: claim.attempt).seconds)",
                ]) { $1 })
            }
            if webhook.state != .pending { try await submissions.dropPendingWebhook(claim.batchID) }
            return
        }
    }
}

extension WebhookDispatcher.Configuration {
    init(_ settings: ServerSettings) {
        self.init(
            timeout: .seconds(settings.webhookTimeout),
            maxAttempts: settings.webhookMaxAttempts,
            retryDelay: .seconds(settings.webhookRetryDelay)
        )
    }
}
