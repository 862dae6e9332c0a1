import Foundation
import Logging
import PromptlineDocuments

/// The text of uploaded documents, extracted once (off the event loop, within the
/// extractor's limits) and kept beside the file for every later reader: a summary's steps,
/// a vector store's ingestion.
package struct DocumentTexts: Sendable {
    let files: FileService
    let extractor: TextExtractor

    /// The text of a stored document. Throws ``ExtractionError`` when it cannot be read, and
    /// ``Gone`` when the file was deleted or has expired.
    func text(of fileID: String) async throws -> String {
        if let kept = try await files.text(fileID) { return kept }
        guard let file = try await files.file(fileID), let data = try await files.content(fileID) else {
            throw Gone(fileID: fileID)
        }
        // The format found on upload; files stored before it was kept are told by their name.
        let format = try file.format.flatMap(DocumentFormat.init(rawValue:))
            ?? DocumentFormat.identify(contentType: nil, filename: file.filename, data: data)
        let text = try await extractor.extract(data, format: format, filename: file.filename).text
        try await files.keep(text: text, of: fileID)
        return text
    }

    /// The file is no longer stored.
    struct Gone: Error, CustomStringConvertible {
        var fileID: String
        var description: String { "the file \(fileID) is gone (deleted or expired)" }
    }
}

extension DocumentTexts {
    package init(_ settings: ServerSettings, files: FileService, logger: Logger) {
        self.init(
            files: files,
            extractor: TextExtractor(
                configuration: .init(
                    maxConcurrent: settings.extractWorkers, timeout: .seconds(settings.extractTimeout),
                    maxPages: settings.documentMaxPages
                ),
                logger: logger
            )
        )
    }
}
