import Foundation

/// What is kept of one `POST /api/tasks`: its tasks, in order, and its webhook.
///
/// Stored as JSON in the ``DocumentStore`` (``Submissions``), so any instance can stream the
/// batch's events or deliver its webhook. The webhook's state changes only by
/// compare-and-replace of the whole record.
struct SubmissionRecord: Codable, Sendable, Equatable {
    var taskIDs: [String]
    var createdAt: Date
    var webhook: WebhookDelivery?
    /// The API key that submitted it; only that key may stream its events.
    var owner: String?
}

/// Where the one webhook POST of a submission stands.
struct WebhookDelivery: Codable, Sendable, Equatable {
    enum State: String, Codable, Sendable {
        /// Waiting for the tasks to finish, or for the next attempt.
        case pending
        /// A receiver answered 2xx.
        case delivered
        /// Every attempt failed; nothing more is tried.
        case failed
    }

    var url: String
    var state = State.pending
    /// POSTs begun so far, the one in flight included.
    var attempts = 0
    /// No POST before this time: the backoff after a failure.
    var notBefore: Date?
    /// The instance whose POST is in flight, and until when that claim holds. Another
    /// instance may take over after that (the first one having died mid-delivery).
    var claimedBy: String?
    var claimedUntil: Date?
    /// Why the last attempt failed.
    var lastError: String?
    /// When it was delivered or given up.
    var endedAt: Date?

    init(url: String) {
        self.url = url
    }

    /// Whether an instance may begin a POST now.
    func isDue(at now: Date) -> Bool {
        state == .pending && (notBefore.map { $0 <= now } ?? true) && (claimedUntil.map { $0 <= now } ?? true)
    }
}
