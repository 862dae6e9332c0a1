import Foundation
import PromptlineCore
import PromptlineKnowledge

extension VectorStoreService {
    /// The chunks of a store closest to each query, best first, merged over the queries
    /// (a chunk found by several keeps its best score). Only completed files whose
    /// attributes pass the filters are searched.
    func search(_ request: VectorStoreRequests.Search, in record: VectorStoreRecord) async throws -> VectorStoreObjects.SearchPage {
        let limit = request.maxNumResults ?? 10
        guard (1...50).contains(limit) else { throw APIError(.badRequest, "max_num_results: from 1 to 50") }
        guard !request.query.isEmpty, request.query.allSatisfy({ !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }) else {
            throw APIError(.badRequest, "query: a non-empty string, or a list of them")
        }
        if let ranker = request.rankingOptions?.ranker, !["none", "auto", "default-2024-11-15"].contains(ranker) {
            throw APIError(.badRequest, "ranking_options.ranker: none, auto or default-2024-11-15, not \"\(ranker)\"")
        }
        let threshold = request.rankingOptions?.scoreThreshold ?? 0
        guard (0...1).contains(threshold) else { throw APIError(.badRequest, "ranking_options.score_threshold: from 0 to 1") }
        try await noteActivity(of: record)
        let searchable = record.searchable(request.filters)
        var matches: [VectorMatch] = []
        if !searchable.isEmpty {
            do {
                matches = try await closest(to: request.query, in: [record.id: searchable.map(\.fileID)], model: record.embeddingModel, limit: limit)
            } catch let error as UpstreamError {
                throw APIError.upstream(error, "upstream embeddings")
            }
        }
        let byID = Dictionary(searchable.map { ($0.fileID, $0) }, uniquingKeysWith: { first, _ in first })
        let results = matches.filter { $0.score >= threshold }.compactMap { match -> VectorStoreObjects.SearchResult? in
            guard let file = byID[match.fileID] else { return nil }
            return .init(fileID: file.fileID, filename: file.filename, score: match.score, attributes: file.attributes, content: [.init(text: match.text)])
        }
        return VectorStoreObjects.SearchPage(searchQuery: request.query, data: results)
    }

    /// The `limit` chunks closest to any of `queries` over several stores' files (store id
    /// to its searchable files), best first. The queries are embedded in one call; throws
    /// ``UpstreamError`` when that fails.
    func closest(to queries: [String], in stores: [String: [String]], model: String, limit: Int) async throws -> [VectorMatch] {
        try await gate.waitUntilOpen()
        let embeddings: Embeddings
        do {
            embeddings = try await embedder.embed(queries, model: model)
        } catch let error as UpstreamError {
            if let wait = error.retryAfter { gate.pause(for: wait) }
            throw error
        }
        var best: [String: VectorMatch] = [:]
        for vector in embeddings.vectors {
            for (storeID, fileIDs) in stores {
                for match in try await index.search(vector, collection: storeID, files: Set(fileIDs), limit: limit) {
                    let key = "\(storeID)\u{0}\(match.fileID)\u{0}\(match.index)"
                    if best[key].map({ $0.score < match.score }) ?? true { best[key] = match }
                }
            }
        }
        return Array(best.values.sorted { $0.score > $1.score }.prefix(limit))
    }

    /// Moves `last_active_at` on, and with it the expiry of a store that has `expires_after`;
    /// at most once a minute, so a busy store is not rewritten on every search.
    private func noteActivity(of record: VectorStoreRecord) async throws {
        let now = Date().unixSeconds
        guard now - record.lastActiveAt >= 60 else { return }
        try await update(record.id, ttl: record.expiresAfterDays.map { .seconds($0 * 86_400) }) { $0.lastActiveAt = now }
    }
}
