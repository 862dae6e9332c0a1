import Foundation
import HTTPTypes
import Hummingbird

/// `/v1/vector_stores` as OpenAI's Vector Stores API, so the official SDKs' `vector_stores`
/// calls work unchanged: stores, their files, file batches and search. With API keys, a
/// store belongs to the key that made it; other keys are told it does not exist.
///
/// Without a vector index every instance can share (an instance on Redis without
/// `--vector-url`), every route answers 503 saying so rather than keep a private index.
struct VectorStoresController: Sendable {
    /// `nil` when this instance has no index it may use.
    let service: VectorStoreService?
    let maxBodySize: Int

    /// How long the SDKs' `…_and_poll` helpers wait between polls of unfinished work.
    static let pollAfter = HTTPField.Name("openai-poll-after-ms")!

    func addRoutes(to router: Router<PromptlineRequestContext>) {
        let stores = router.group("/v1/vector_stores")
        stores.post(use: offLoop(create))
        stores.get(use: offLoop(list))
        stores.get("{id}", use: offLoop(retrieve))
        stores.post("{id}", use: offLoop(modify))
        stores.delete("{id}", use: offLoop(delete))
        stores.post("{id}/search", use: offLoop(search))
        stores.post("{id}/files", use: offLoop(attach))
        stores.get("{id}/files", use: offLoop(listFiles))
        stores.get("{id}/files/{file_id}", use: offLoop(file))
        stores.post("{id}/files/{file_id}", use: offLoop(updateFile))
        stores.delete("{id}/files/{file_id}", use: offLoop(detach))
        stores.get("{id}/files/{file_id}/content", use: offLoop(content))
        stores.post("{id}/file_batches", use: offLoop(createBatch))
        stores.get("{id}/file_batches/{batch_id}", use: offLoop(batch))
        stores.post("{id}/file_batches/{batch_id}/cancel", use: offLoop(cancelBatch))
        stores.get("{id}/file_batches/{batch_id}/files", use: offLoop(batchFiles))
    }

    /// The service, or the 503 that says why there is none.
    private func available() throws -> VectorStoreService {
        guard let service else {
            throw APIError(
                .serviceUnavailable,
                "vector stores need a vector index every instance shares: this server uses Redis without \(Setting.vectorURL.named), so it keeps none of its own; start it with \(Setting.vectorURL.named) postgres://…"
            )
        }
        return service
    }

    private func store(_ context: PromptlineRequestContext, _ service: VectorStoreService) async throws -> VectorStoreRecord {
        try await service.record(try context.parameters.require("id"), visible: context.maySee(ownedBy:))
    }

    // MARK: - Stores

    @Sendable func create(_ request: Request, context: PromptlineRequestContext) async throws -> Response {
        let service = try available()
        let body = try await Self.decode(VectorStoreRequests.Create.self, from: request, limit: maxBodySize)
        let record = try await service.create(body, owner: context.owner, visible: context.maySee(ownedBy:))
        return try JSONBody.response(try await service.view(of: record))
    }

    @Sendable func list(_ request: Request, context: PromptlineRequestContext) async throws -> Response {
        let service = try available()
        let (after, before, limit, ascending) = try Self.paging(request)
        let page = try await service.list(after: after, before: before, limit: limit, ascending: ascending, visible: context.maySee(ownedBy:))
        var views: [VectorStoreObjects.VectorStore] = []
        for record in page.data { views.append(try await service.view(of: record)) }
        return try JSONBody.response(ListPage(data: views, firstID: page.firstID, lastID: page.lastID, hasMore: page.hasMore))
    }

    @Sendable func retrieve(_ request: Request, context: PromptlineRequestContext) async throws -> Response {
        let service = try available()
        let view = try await service.view(of: try await store(context, service))
        return try Self.polled(view, inProgress: view.status == "in_progress")
    }

    @Sendable func modify(_ request: Request, context: PromptlineRequestContext) async throws -> Response {
        let service = try available()
        let record = try await store(context, service)
        let body = try await Self.decode(VectorStoreRequests.Update.self, from: request, limit: maxBodySize)
        try VectorStoreRequests.check(metadata: body.metadata)
        let days = try VectorStoreService.days(body.expiresAfter)
        let ttl = days.map { service.ttl($0) }
        let (updated, _) = try await service.update(record.id, ttl: ttl) { record in
            if let name = body.name { record.name = name }
            if let metadata = body.metadata { record.metadata = metadata }
            if let days {
                record.expiresAfterDays = days
                record.lastActiveAt = Date().unixSeconds
            }
        }
        return try JSONBody.response(try await service.view(of: updated))
    }

    @Sendable func delete(_ request: Request, context: PromptlineRequestContext) async throws -> Response {
        let service = try available()
        let record = try await store(context, service)
        try await service.delete(record)
        return try JSONBody.response(VectorStoreObjects.Deleted(id: record.id, object: "vector_store.deleted"))
    }

    @Sendable func search(_ request: Request, context: PromptlineRequestContext) async throws -> Response {
        let service = try available()
        let record = try await store(context, service)
        let body = try await Self.decode(VectorStoreRequests.Search.self, from: request, limit: maxBodySize)
        return try JSONBody.response(try await service.search(body, in: record))
    }

    // MARK: - Files

    @Sendable func attach(_ request: Request, context: PromptlineRequestContext) async throws -> Response {
        let service = try available()
        let record = try await store(context, service)
        let body = try await Self.decode(VectorStoreRequests.Attach.self, from: request, limit: maxBodySize)
        let attachments = try await service.checked([body], visible: context.maySee(ownedBy:))
        let (updated, files) = try await service.attach(attachments, to: record.id)
        return try Self.polled(try await service.view(of: files[0], in: updated), inProgress: true)
    }

    @Sendable func listFiles(_ request: Request, context: PromptlineRequestContext) async throws -> Response {
        let service = try available()
        let record = try await store(context, service)
        let (after, before, limit, ascending) = try Self.paging(request)
        let filter = request.uri.queryParameters.get("filter")
        return try JSONBody.response(
            try await service.files(of: record, filter: filter, after: after, before: before, limit: limit, ascending: ascending)
        )
    }

    @Sendable func file(_ request: Request, context: PromptlineRequestContext) async throws -> Response {
        let service = try available()
        let (record, file) = try await attached(context, service)
        let view = try await service.view(of: file, in: record)
        return try Self.polled(view, inProgress: view.status == "in_progress")
    }

    @Sendable func updateFile(_ request: Request, context: PromptlineRequestContext) async throws -> Response {
        let service = try available()
        let (record, file) = try await attached(context, service)
        let body = try await Self.decode(VectorStoreRequests.UpdateFile.self, from: request, limit: maxBodySize)
        try VectorStoreRequests.check(body.attributes)
        let (updated, _) = try await service.update(record.id) { record in
            guard let at = record.files.firstIndex(where: { $0.fileID == file.fileID }) else {
                throw APIError(.notFound, "no file \(file.fileID) in \(record.id)")
            }
            record.files[at].attributes = body.attributes ?? [:]
        }
        guard let changed = updated.file(file.fileID) else { throw APIError(.notFound, "no file \(file.fileID) in \(record.id)") }
        return try JSONBody.response(try await service.view(of: changed, in: updated))
    }

    @Sendable func detach(_ request: Request, context: PromptlineRequestContext) async throws -> Response {
        let service = try available()
        let (record, file) = try await attached(context, service)
        guard try await service.detach(file.fileID, from: record.id) else {
            throw APIError(.notFound, "no file \(file.fileID) in \(record.id)")
        }
        return try JSONBody.response(VectorStoreObjects.Deleted(id: file.fileID, object: "vector_store.file.deleted"))
    }

    @Sendable func content(_ request: Request, context: PromptlineRequestContext) async throws -> Response {
        let service = try available()
        let (_, file) = try await attached(context, service)
        guard let text = try await service.files.text(file.fileID) else {
            throw APIError(.notFound, "the text of \(file.fileID) is not extracted yet, or the file is gone")
        }
        return try JSONBody.response(VectorStoreObjects.ContentPage(data: [.init(text: text)]))
    }

    private func attached(_ context: PromptlineRequestContext, _ service: VectorStoreService) async throws -> (VectorStoreRecord, VectorStoreRecord.File) {
        let record = try await store(context, service)
        let fileID = try context.parameters.require("file_id")
        guard let file = record.file(fileID) else { throw APIError(.notFound, "no file \(fileID) in \(record.id)") }
        return (record, file)
    }

    // MARK: - File batches

    @Sendable func createBatch(_ request: Request, context: PromptlineRequestContext) async throws -> Response {
        let service = try available()
        let record = try await store(context, service)
        let body = try await Self.decode(VectorStoreRequests.CreateBatch.self, from: request, limit: maxBodySize)
        let attachments = try await service.checked(try body.attachments(), visible: context.maySee(ownedBy:))
        guard !attachments.isEmpty else { throw APIError(.badRequest, "file_ids: give at least one file") }
        let batchID = "vsfb_" + BatchService.randomHex()
        let (updated, _) = try await service.attach(attachments, to: record.id, batchID: batchID)
        guard let batch = updated.batches.first(where: { $0.id == batchID }) else { throw APIError(.internalServerError, "the batch was not recorded") }
        return try Self.polled(try await service.view(of: batch, in: updated), inProgress: true)
    }

    @Sendable func batch(_ request: Request, context: PromptlineRequestContext) async throws -> Response {
        let service = try available()
        let (record, batch) = try await self.batch(context, service)
        let view = try await service.view(of: batch, in: record)
        return try Self.polled(view, inProgress: view.status == "in_progress")
    }

    @Sendable func cancelBatch(_ request: Request, context: PromptlineRequestContext) async throws -> Response {
        let service = try available()
        let (record, batch) = try await self.batch(context, service)
        let updated = try await service.cancel(batch: batch.id, in: record.id)
        guard let cancelled = updated.batches.first(where: { $0.id == batch.id }) else { throw APIError(.notFound, "no file batch \(batch.id)") }
        return try JSONBody.response(try await service.view(of: cancelled, in: updated))
    }

    @Sendable func batchFiles(_ request: Request, context: PromptlineRequestContext) async throws -> Response {
        let service = try available()
        let (record, batch) = try await self.batch(context, service)
        let (after, before, limit, ascending) = try Self.paging(request)
        let filter = request.uri.queryParameters.get("filter")
        return try JSONBody.response(
            try await service.files(of: record, batch: batch, filter: filter, after: after, before: before, limit: limit, ascending: ascending)
        )
    }

    private func batch(_ context: PromptlineRequestContext, _ service: VectorStoreService) async throws -> (VectorStoreRecord, VectorStoreRecord.Batch) {
        let record = try await store(context, service)
        let batchID = try context.parameters.require("batch_id")
        guard let batch = record.batches.first(where: { $0.id == batchID }) else {
            throw APIError(.notFound, "no file batch \(batchID) in \(record.id)")
        }
        return (record, batch)
    }

    // MARK: - Helpers

    /// A request body, or a 400 naming what is wrong: OpenAI answers every invalid body 400,
    /// where Promptline's own routes tell a missing or mistyped field (422) apart.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, limit: Int) async throws -> T {
        do {
            return try await JSONBody.decode(type, from: request, limit: limit)
        } catch var error as APIError where error.status == .unprocessableContent {
            error.status = .badRequest
            throw error
        }
    }

    /// `after`, `before`, `limit` (1–100, default 20) and `order` (default `desc`), as OpenAI's lists take them.
    static func paging(_ request: Request) throws -> (after: String?, before: String?, limit: Int, ascending: Bool) {
        let query = request.uri.queryParameters
        let limit = try ListPage<VectorStoreObjects.File>.limit(query.get("limit"), in: 1...100, default: 20)
        let order = query.get("order") ?? "desc"
        guard ["asc", "desc"].contains(order) else { throw APIError(.badRequest, "order: \"asc\" or \"desc\", not \"\(order)\"") }
        return (query.get("after"), query.get("before"), limit, order == "asc")
    }

    /// An answer the SDKs poll while `inProgress`, telling them how long to wait.
    static func polled(_ value: some Encodable, inProgress: Bool) throws -> Response {
        var response = try JSONBody.response(value)
        if inProgress { response.headers[pollAfter] = "500" }
        return response
    }
}
