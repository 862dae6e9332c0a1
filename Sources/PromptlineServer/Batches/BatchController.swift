import Foundation
import Hummingbird
import NIOCore
import PromptlineCore

/// The Batch API's routes, `/v1/batches`, as OpenAI's (its files are ``FilesController``'s).
/// With API keys, batches belong to the key that made them; other keys are told they do not exist.
struct BatchController: Sendable {
    let service: BatchService
    let maxBodySize: Int

    func addRoutes(to router: Router<PromptlineRequestContext>) {
        // Off the event loop: the routes that may pass over a whole file or over every
        // task of a batch (a cancel that ends the batch).
        router.post("/v1/batches", use: offLoop(create))
        router.get("/v1/batches", use: list)
        router.get("/v1/batches/{id}", use: batch)
        router.post("/v1/batches/{id}/cancel", use: offLoop(cancel))
    }

    struct CreateRequest: Decodable {
        var inputFileID: String
        var endpoint: String
        var completionWindow: String
        var metadata: [String: String]?

        enum CodingKeys: String, CodingKey {
            case endpoint, metadata
            case inputFileID = "input_file_id"
            case completionWindow = "completion_window"
        }
    }

    @Sendable func create(_ request: Request, context: PromptlineRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(CreateRequest.self, from: request, limit: maxBodySize)
        let batch = try await service.create(
            inputFileID: body.inputFileID, endpoint: body.endpoint, completionWindow: body.completionWindow, metadata: body.metadata,
            caller: context.caller, visible: context.maySee(ownedBy:)
        )
        return try JSONBody.response(batch)
    }

    @Sendable func list(_ request: Request, context: PromptlineRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let limit = try BatchList.limit(query.get("limit"), in: 1...100, default: 20)
        return try JSONBody.response(try await service.list(after: query.get("after"), limit: limit, visible: context.maySee(ownedBy:)))
    }

    @Sendable func batch(_ request: Request, context: PromptlineRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        return try JSONBody.response(try await visibleBatch(id, context: context))
    }

    @Sendable func cancel(_ request: Request, context: PromptlineRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        _ = try await visibleBatch(id, context: context)
        return try JSONBody.response(try await service.cancel(id))
    }

    private func visibleBatch(_ id: String, context: PromptlineRequestContext) async throws -> BatchObject {
        guard let (batch, _) = try await service.batch(id), context.maySee(ownedBy: batch.owner) else {
            throw APIError(.notFound, "no batch \(id) (unknown or expired)")
        }
        return batch
    }
}
