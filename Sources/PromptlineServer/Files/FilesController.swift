import Foundation
import Hummingbird
import NIOCore
import PromptlineDocuments

/// `/v1/files` as OpenAI's Files API: batch input files (checked line by line), documents
/// (`user_data`, `assistants`: PDF, text, Markdown, HTML, checked against their bytes), and
/// the output and error files of batches. With API keys, a file belongs to the key that
/// uploaded it; other keys are told it does not exist.
struct FilesController: Sendable {
    let files: FileService
    /// Where batch input files are checked and result files come from; `nil` without the Batch API.
    let batches: BatchService?
    /// The largest batch input file, in bytes.
    let maxBatchFileSize: Int
    /// The largest document, in bytes.
    let maxDocumentSize: Int

    func addRoutes(to router: Router<PromptlineRequestContext>) {
        // Off the event loop: an upload is checked whole, a result file may be built from
        // every task of its batch.
        router.post("/v1/files", use: offLoop(upload))
        router.get("/v1/files", use: offLoop(list))
        router.get("/v1/files/{id}", use: offLoop(file))
        router.delete("/v1/files/{id}", use: delete)
        router.get("/v1/files/{id}/content", use: offLoop(content))
    }

    @Sendable func upload(_ request: Request, context: PromptlineRequestContext) async throws -> Response {
        guard let boundary = request.headers[.contentType].flatMap(MultipartForm.boundary(ofContentType:)) else {
            throw APIError(.unsupportedMediaType, "upload a file as multipart/form-data with the fields purpose and file")
        }
        let limit = max(maxBatchFileSize, maxDocumentSize)
        let tooLarge = "the file is larger than \(limit) bytes, the most any file may be (\(Setting.batchMaxFileSize.named), \(Setting.documentMaxSize.named))"
        // The form's boundaries and other fields come on top of the file.
        let buffer = try await JSONBody.bytes(of: request, limit: limit + 64 * 1024, tooLarge: tooLarge)
        let form: MultipartForm
        do {
            form = try MultipartForm(Data(buffer.readableBytesView), boundary: boundary)
        } catch let error as MultipartForm.FormError {
            throw APIError(.badRequest, error.description)
        }
        let purposes = FileService.uploadPurposes.map { "\"\($0)\"" }.joined(separator: ", ")
        guard let purpose = form.part(named: "purpose").map({ String(decoding: $0.data, as: UTF8.self) }) else {
            throw APIError(.badRequest, "purpose: required, one of \(purposes)")
        }
        guard let file = form.part(named: "file") else { throw APIError(.badRequest, "file: required, the file's bytes") }
        switch purpose {
        case "batch":
            guard let batches else { throw APIError(.badRequest, "purpose: \"batch\" needs the Batch API, which this server does not run") }
            guard file.data.count <= maxBatchFileSize else {
                throw APIError(.contentTooLarge, "the file is larger than \(maxBatchFileSize) bytes, the most a batch input file may be (\(Setting.batchMaxFileSize.named))")
            }
            let stored = try await batches.storeFile(Data(file.data), filename: file.filename ?? "input.jsonl", owner: context.owner)
            return try JSONBody.response(stored)
        case "user_data", "assistants":
            let filename = file.filename ?? "document"
            guard file.data.count <= maxDocumentSize else {
                throw APIError(.contentTooLarge, "\(filename) is larger than \(maxDocumentSize) bytes, the most a document may be (\(Setting.documentMaxSize.named))")
            }
            let format: DocumentFormat
            do {
                format = try DocumentFormat.identify(contentType: file.contentType, filename: filename, data: file.data)
            } catch {
                throw APIError(.badRequest, "\(error)")
            }
            let stored = try await files.store(
                Data(file.data), filename: filename, purpose: purpose, owner: context.owner, format: format.rawValue
            )
            return try JSONBody.response(stored)
        default:
            throw APIError(.badRequest, "purpose: one of \(purposes), not \"\(purpose)\"")
        }
    }

    @Sendable func list(_ request: Request, context: PromptlineRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let limit = try FileList.limit(query.get("limit"), in: 1...10_000, default: 10_000)
        let order = query.get("order") ?? "desc"
        guard ["asc", "desc"].contains(order) else { throw APIError(.badRequest, "order: \"asc\" or \"desc\", not \"\(order)\"") }
        let purpose = query.get("purpose")
        if let purpose, !FileService.listedPurposes.contains(purpose) {
            throw APIError(.badRequest, "purpose: one of \(FileService.listedPurposes.joined(separator: ", ")), not \"\(purpose)\"")
        }
        let page = try await files.list(
            purpose: purpose, after: query.get("after"), limit: limit, ascending: order == "asc", visible: context.maySee(ownedBy:)
        )
        return try JSONBody.response(page)
    }

    @Sendable func file(_ request: Request, context: PromptlineRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let found = if let batches { try await batches.file(id) } else { try await files.file(id) }
        guard let found, context.maySee(ownedBy: found.owner) else { throw Self.notFound(id) }
        return try JSONBody.response(found)
    }

    @Sendable func delete(_ request: Request, context: PromptlineRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        guard let found = try await files.file(id), context.maySee(ownedBy: found.owner), try await files.delete(id) else {
            throw Self.notFound(id)
        }
        return try JSONBody.response(DeletedFile(id: id))
    }

    @Sendable func content(_ request: Request, context: PromptlineRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let data: Data?
        if let batches {
            data = try await batches.fileContent(id, visible: context.maySee(ownedBy:))
        } else if let found = try await files.file(id), context.maySee(ownedBy: found.owner) {
            data = try await files.content(id)
        } else {
            data = nil
        }
        guard let data else { throw Self.notFound(id) }
        return Response(
            status: .ok, headers: [.contentType: "application/octet-stream"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data))
        )
    }

    private static func notFound(_ id: String) -> APIError {
        APIError(.notFound, "no file \(id) (unknown or expired)")
    }
}
