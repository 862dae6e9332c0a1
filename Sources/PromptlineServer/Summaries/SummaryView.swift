import Foundation
import PromptlineCore

/// `GET /api/summaries/{id}`: where a summary stands, read from its tasks.
struct SummaryView: Encodable, Sendable {
    struct Document: Encodable, Sendable {
        var fileID: String?
        var index: Int?
        var filename: String?
        var status: String
        /// How many chunks it was cut into (0 until it has been read).
        var chunks: Int
        var summary: String?
        var error: String?

        enum CodingKeys: String, CodingKey {
            case index, filename, status, chunks, summary, error
            case fileID = "file_id"
        }

        // `summary` and `error` are always there, `null` until known, as the document says.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encodeIfPresent(fileID, forKey: .fileID)
            try container.encodeIfPresent(index, forKey: .index)
            try container.encodeIfPresent(filename, forKey: .filename)
            try container.encode(status, forKey: .status)
            try container.encode(chunks, forKey: .chunks)
            try container.encode(summary, forKey: .summary)
            try container.encode(error, forKey: .error)
        }
    }

    struct Chunks: Encodable, Sendable {
        var total = 0
        var completed = 0
        var failed = 0
        var skipped = 0
    }

    var id: String
    var object = "summary"
    var status: String
    var progress: String
    var summary: String?
    var documents: [Document]
    var chunks: Chunks
    var usage: TokenUsage
    var error: String?
    var createdAt: Int
    var finishedAt: Int?

    enum CodingKeys: String, CodingKey {
        case id, object, status, progress, summary, documents, chunks, usage, error
        case createdAt = "created_at"
        case finishedAt = "finished_at"
    }

    // `summary`, `error` and `finished_at` are always there, `null` until known.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(object, forKey: .object)
        try container.encode(status, forKey: .status)
        try container.encode(progress, forKey: .progress)
        try container.encode(summary, forKey: .summary)
        try container.encode(documents, forKey: .documents)
        try container.encode(chunks, forKey: .chunks)
        try container.encode(usage, forKey: .usage)
        try container.encode(error, forKey: .error)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(finishedAt, forKey: .finishedAt)
    }

    /// `root` is the summary's task, `documents` each document's step, `chunkTasks` each
    /// document's chunk calls, `all` every task of the summary read (for the usage).
    init(record: SummaryRecord, root: TaskRecord?, documents: [TaskRecord?], chunks chunkTasks: [[TaskRecord?]], all: [TaskRecord]) {
        id = record.id
        createdAt = record.createdAt
        var counts = Chunks()
        for task in chunkTasks.joined() {
            counts.total += 1
            switch task?.status {
            case .completed: counts.completed += 1
            case .error, .cancelled: record.onChunkError == "skip" ? (counts.skipped += 1) : (counts.failed += 1)
            default: break
            }
        }
        self.chunks = counts
        self.documents = zip(record.documents, zip(documents, chunkTasks)).map { document, tasks in
            let (task, chunks) = tasks
            return Document(
                fileID: document.fileID, index: document.index, filename: document.filename,
                status: task?.status.rawValue ?? "queued", chunks: chunks.count,
                summary: task?.status == .completed ? task?.result : nil,
                error: task?.error
            )
        }
        let rootStatus = root?.status ?? .queued
        let started = all.contains { $0.startedAt != nil }
        status = rootStatus == .queued && started ? TaskStatus.processing.rawValue : rootStatus.rawValue
        summary = rootStatus == .completed ? root?.result : nil
        error = rootStatus == .completed ? nil : root?.error
        finishedAt = rootStatus.isFinished ? root?.finishedAt.map { Int($0.timeIntervalSince1970) } : nil
        // The chunks are most of the work: they make 90 %, the combining the rest.
        let percent = rootStatus == .completed ? 100 : counts.total == 0 ? 0 : min(99, (counts.completed + counts.skipped) * 90 / counts.total)
        progress = String(percent)
        usage = all.compactMap(\.usage).reduce(TokenUsage(promptTokens: 0, completionTokens: 0, totalTokens: 0)) {
            TokenUsage(
                promptTokens: $0.promptTokens + $1.promptTokens, completionTokens: $0.completionTokens + $1.completionTokens,
                totalTokens: $0.totalTokens + $1.totalTokens
            )
        }
    }
}

/// `POST /api/summaries`'s answer.
struct SummaryCreated: Encodable {
    var summaryID: String
    var status = "queued"
    var duplicate: Bool?

    enum CodingKeys: String, CodingKey {
        case status, duplicate
        case summaryID = "summary_id"
    }
}
