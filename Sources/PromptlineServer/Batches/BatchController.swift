import Foundation
import Hummingbird
import NIOCore
import PromptlineCore

/// The Batch API's routes: `/v1/files` and `/v1/batches`, as OpenAI's. With API keys, files
/// and batches belong to the key that made them; other keys are told they do not exist.
struct BatchController: Sendable {
    let service: BatchService
    /// The largest input file, in bytes.
    let maxFileSize: Int
    let maxBodySize: Int

    func addRoutes(to router: Router<PromptlineRequestContext>) {
        // Off the event loop: the routes that may pass over a whole file or over every
        // task of a batch (a result file not stored yet, a cancel that ends the batch).
        router.post("/v1/files", use: offLoop(upload))
        router.get("/v1/files/{id}", use: offLoop(file))
        router.get("/v1/files/{id}/content", use: offLoop(fileContent))
        router.post("/v1/batches", use: offLoop(create))
        router.get("/v1/batches", use: list)
        router.get("/v1/batches/{id}", use: batch)
        router.post("/v1/batches/{id}/cancel", use: offLoop(cancel))
    }

    @Sendable func upload(_ request: Request, context: PromptlineRequestContext) async throws -> Response {
        guard let boundary = request.headers[.contentType].flatMap(MultipartForm.boundary(ofContentType:)) else {
            throw APIError(.unsupportedMediaType, "upload a file as multipart/form-data with the fields purpose and file")
        }
        let tooLarge = "the file is larger than \(maxFileSize) bytes, the most a batch input file may be (\(Setting.batchMaxFileSize.named))"
        // The form's boundaries and other fields come on top of the file.
        let buffer = try await JSONBody.bytes(of: request, limit: maxFileSize + 64 * 1024, tooLarge: tooLarge)
        let form: MultipartForm
        do {
            form = try MultipartForm(Data(buffer.readableBytesView), boundary: boundary)
        } catch let error as MultipartForm.FormError {
            throw APIError(.badRequest, error.description)
        }
        guard let purpose = form.part(named: "purpose").map({ String(decoding: $0.data, as: UTF8.self) }) else {
            throw APIError(.badRequest, "purpose: required; set it to \"batch\"")
        }
        guard purpose == "batch" else { throw APIError(.badRequest, "purpose: only \"batch\" is supported, not \"\(purpose)\"") }
        guard let file = form.part(named: "file") else { throw APIError(.badRequest, "file: required, the JSONL input of a batch") }
        guard file.data.count <= maxFileSize else { throw APIError(.contentTooLarge, tooLarge) }
        let stored = try await service.storeFile(Data(file.data), filename: file.filename ?? "input.jsonl", owner: context.owner)
        return try JSONBody.response(stored)
    }

    @Sendable func file(_ request: Request, context: PromptlineRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        guard let file = try await service.file(id), context.maySee(ownedBy: file.owner) else {
            throw APIError(.notFound, "no file \(id) (unknown or expired)")
        }
        return try JSONBody.response(file)
    }

    @Sendable func fileContent(_ request: Request, context: PromptlineRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        guard let data = try await service.fileContent(id, visible: context.maySee(ownedBy:)) else {
            throw APIError(.notFound, "no file \(id) (unknown or expired)")
        }
        return Response(
            status: .ok, headers: [.contentType: "application/octet-stream"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data))
        )
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
        var limit = 20
        if let raw = query.get("limit") {
            guard let value = Int(raw), (1...100).contains(value) else { throw APIError(.badRequest, "limit: an integer from 1 to 100") }
            limit = value
        }
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
