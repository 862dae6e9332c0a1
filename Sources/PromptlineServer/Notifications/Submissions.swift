import Crypto
import Foundation
import PromptlineCore

/// The records of task submissions (``SubmissionRecord``), kept in the ``DocumentStore``
/// for as long as results are.
///
/// A submission's `batch_id` is derived from its task ids, so a repeated submission (same
/// idempotency key, same ids) names the same batch and stores nothing new. Submissions with
/// a webhook also have an empty marker in a second collection, so that the
/// ``WebhookDispatcher`` looks at those only.
struct Submissions: Sendable {
    let documents: any DocumentStore
    /// How long records live: the result TTL.
    let retention: Duration

    static let collection = "submissions"
    static let pendingWebhooks = "pending-webhooks"

    /// 32 hex digits of the SHA-256 of the ids, in order.
    static func batchID(of taskIDs: [String]) -> String {
        String(SHA256.hash(data: Data(taskIDs.joined(separator: ",").utf8)).hexString.prefix(32))
    }

    /// Keeps the record of a submission whose tasks are stored; answers its batch id.
    /// Idempotent: when the batch is known already, the first record stands as it is.
    func record(taskIDs: [String], webhookURL: String?, owner: String?) async throws -> String {
        let id = Self.batchID(of: taskIDs)
        let record = SubmissionRecord(taskIDs: taskIDs, createdAt: Date(), webhook: webhookURL.map(WebhookDelivery.init), owner: owner)
        _ = try await documents.insertDocument(collection: Self.collection, id: id, body: try JSONBody.encoder.encode(record), ttl: retention)
        // After the record: a marker always finds its record (until both expire). Inserted
        // again by a repeated submission, it is dropped at once if the record has no
        // webhook or one that has ended.
        if webhookURL != nil {
            _ = try await documents.insertDocument(collection: Self.pendingWebhooks, id: id, body: Data(), ttl: retention)
        }
        return id
    }

    func submission(_ id: String) async throws -> (record: SubmissionRecord, version: Int)? {
        guard let stored = try await documents.document(collection: Self.collection, id: id) else { return nil }
        return (try JSONDecoder().decode(SubmissionRecord.self, from: stored.body), stored.version)
    }

    /// Replaces a record still at `version`; answers its new version, `nil` when another
    /// change came first (or it has expired).
    func replace(_ id: String, with record: SubmissionRecord, ifVersion version: Int) async throws -> Int? {
        try await documents.replaceDocument(
            collection: Self.collection, id: id, body: try JSONBody.encoder.encode(record), ifVersion: version, ttl: nil
        )?.version
    }

    /// The batch ids whose webhook may still be due, newest first.
    func pendingWebhookIDs() async throws -> [String] {
        var ids: [String] = []
        var after: String?
        while true {
            let page = try await documents.documents(collection: Self.pendingWebhooks, after: after, limit: 500)
            ids += page.map(\.id)
            guard page.count == 500, let last = page.last else { return ids }
            after = last.id
        }
    }

    func dropPendingWebhook(_ id: String) async throws {
        _ = try await documents.deleteDocument(collection: Self.pendingWebhooks, id: id)
    }
}
