import Foundation
import PromptlineCore
import PromptlineKnowledge

/// Grounded answers: the chunks of the caller's vector stores closest to a question,
/// numbered into a prompt (``GroundedPrompt``) that asks the upstream to answer from them
/// and cite them as `[n]`.
struct AnswerService: Sendable {
    let stores: VectorStoreService

    static let maxResultsRange = 1...50
    static let defaultMaxResults = 8

    /// Checks the stores a question names: each must exist and be the caller's.
    func checkedStores(_ ids: [String], visible: (String?) -> Bool, at path: String) async throws -> [VectorStoreRecord] {
        guard !ids.isEmpty else { throw APIError(.unprocessableContent, "\(path): give at least one vector store") }
        guard ids.count <= 10 else { throw APIError(.unprocessableContent, "\(path): at most 10 vector stores") }
        var records: [VectorStoreRecord] = []
        for id in Set(ids).sorted() {
            guard let record = try await stores.record(id), visible(record.owner) else {
                throw APIError(.notFound, "\(path): no vector store \(id) (unknown or expired)")
            }
            records.append(record)
        }
        return records
    }

    /// The best chunks of the stores for a question, numbered from 1.
    func citations(for question: String, in records: [VectorStoreRecord], limit: Int) async throws -> [Citation] {
        var searchable: [String: [String]] = [:]
        var files: [String: VectorStoreRecord.File] = [:]
        for record in records {
            let completed = record.searchable(nil)
            searchable[record.id] = completed.map(\.fileID)
            for file in completed { files[file.fileID] = file }
        }
        guard files.isEmpty == false, let model = records.first?.embeddingModel else { return [] }
        let matches = try await stores.closest(to: [question], in: searchable, model: model, limit: limit)
        return matches.enumerated().map { number, match in
            Citation(index: number + 1, fileID: match.fileID, filename: files[match.fileID]?.filename ?? match.fileID, score: match.score, text: match.text)
        }
    }

    /// The messages that ask the question over these sources.
    static func messages(question: String, citations: [Citation]) -> [ChatMessage] {
        [
            ChatMessage(role: "system", content: GroundedPrompt.system),
            ChatMessage(role: "user", content: GroundedPrompt.user(
                question: question,
                sources: citations.map { .init(index: $0.index, filename: $0.filename, text: $0.text) }
            )),
        ]
    }
}

extension AnswerService {
    /// Keeps a grounded task's citations for its detail, replacing those of an earlier attempt.
    func keep(_ citations: [Citation], ofTask id: String) async throws {
        let body = try JSONEncoder().encode(citations)
        _ = try await stores.documents.deleteDocument(collection: Citation.collection, id: id)
        _ = try await stores.documents.insertDocument(collection: Citation.collection, id: id, body: body, ttl: stores.retention)
    }

    /// A grounded task's citations; `nil` before it has run.
    func citations(ofTask id: String) async throws -> [Citation]? {
        guard let stored = try await stores.documents.document(collection: Citation.collection, id: id) else { return nil }
        return try JSONDecoder().decode([Citation].self, from: stored.body)
    }
}
