import Foundation
import PromptlineCore

/// A Batch API batch, in OpenAI's shape; stored as JSON in the ``DocumentStore``
/// collection `batches`, and answered as is.
struct BatchObject: Codable, Sendable, Equatable {
    enum Status: String, Codable, Sendable {
        case validating, failed, inProgress = "in_progress", finalizing, completed, expired, cancelling, cancelled

        /// A batch in these states still has tasks to watch.
        var isActive: Bool { [.validating, .inProgress, .finalizing, .cancelling].contains(self) }
    }

    struct RequestCounts: Codable, Sendable, Equatable {
        var total: Int
        var completed: Int
        var failed: Int
    }

    var id: String
    var object = "batch"
    var endpoint: String
    var errors: JSONValue?
    var inputFileID: String
    var completionWindow: String
    var status: Status
    var outputFileID: String?
    var errorFileID: String?
    var createdAt: Int
    var inProgressAt: Int?
    var expiresAt: Int?
    var finalizingAt: Int?
    var completedAt: Int?
    var failedAt: Int?
    var expiredAt: Int?
    var cancellingAt: Int?
    var cancelledAt: Int?
    var requestCounts: RequestCounts
    var metadata: [String: String]?
    /// The API key that made the batch (Promptline's own field, absent on an open server).
    var owner: String?

    /// The id of the task that runs the batch's `index`-th request.
    func taskID(_ index: Int) -> String { "\(id)-\(index)" }

    /// The ids of the batch's virtual output and error files.
    var outputFileName: String { "file-\(id)-output" }
    var errorFileName: String { "file-\(id)-errors" }

    enum CodingKeys: String, CodingKey {
        case id, object, endpoint, errors, status, metadata, owner
        case inputFileID = "input_file_id"
        case completionWindow = "completion_window"
        case outputFileID = "output_file_id"
        case errorFileID = "error_file_id"
        case createdAt = "created_at"
        case inProgressAt = "in_progress_at"
        case expiresAt = "expires_at"
        case finalizingAt = "finalizing_at"
        case completedAt = "completed_at"
        case failedAt = "failed_at"
        case expiredAt = "expired_at"
        case cancellingAt = "cancelling_at"
        case cancelledAt = "cancelled_at"
        case requestCounts = "request_counts"
    }

    /// Every field, `null` when unset, as OpenAI answers.
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(object, forKey: .object)
        try c.encode(endpoint, forKey: .endpoint)
        try c.encode(errors, forKey: .errors)
        try c.encode(inputFileID, forKey: .inputFileID)
        try c.encode(completionWindow, forKey: .completionWindow)
        try c.encode(status, forKey: .status)
        try c.encode(outputFileID, forKey: .outputFileID)
        try c.encode(errorFileID, forKey: .errorFileID)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(inProgressAt, forKey: .inProgressAt)
        try c.encode(expiresAt, forKey: .expiresAt)
        try c.encode(finalizingAt, forKey: .finalizingAt)
        try c.encode(completedAt, forKey: .completedAt)
        try c.encode(failedAt, forKey: .failedAt)
        try c.encode(expiredAt, forKey: .expiredAt)
        try c.encode(cancellingAt, forKey: .cancellingAt)
        try c.encode(cancelledAt, forKey: .cancelledAt)
        try c.encode(requestCounts, forKey: .requestCounts)
        try c.encode(metadata, forKey: .metadata)
        try c.encodeIfPresent(owner, forKey: .owner)
    }
}

/// `GET /v1/batches`.
typealias BatchList = ListPage<BatchObject>

/// The collections the Batch API keeps in the ``DocumentStore``.
enum BatchCollections {
    static let batches = "batches"
    /// One empty record per batch still running, so that watching them costs nothing per finished batch.
    static let activeBatches = "active-batches"
}

extension Date {
    /// Seconds since 1970, as OpenAI's objects give times.
    var unixSeconds: Int { Int(timeIntervalSince1970) }
}
