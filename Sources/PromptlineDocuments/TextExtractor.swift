import Foundation
import Logging

/// Reads the text out of documents: PDF through poppler's `pdftotext`, HTML without its
/// markup, text and Markdown as they are.
///
/// At most ``Configuration/maxConcurrent`` PDF and HTML extractions run at once; the others
/// wait their turn in arrival order, and leave the queue if their task is cancelled. Text and
/// Markdown only have their UTF-8 checked, and do not wait. A PDF is extracted by a
/// `pdftotext` child process that is awaited without holding a thread and killed at
/// ``Configuration/timeout``; cancelling the calling task kills it too.
///
/// Every failure is an ``ExtractionError`` naming the file and the cause; one document's
/// failure never affects another's extraction.
package final class TextExtractor: Sendable {
    /// How extraction is bounded, and where `pdftotext` is.
    package struct Configuration: Sendable {
        /// At most this many PDF and HTML extractions at once (at least 1).
        package var maxConcurrent: Int
        /// A `pdftotext` run still going after this long is killed and the extraction fails.
        package var timeout: Duration
        /// A PDF with more pages than this is refused (at least 1); `pdftotext` is told to stop
        /// one page past it, so a huge PDF costs no more than an acceptable one.
        package var maxPages: Int
        /// The `pdftotext` executable; `nil` when it is not installed (PDFs then fail with
        /// `toolMissing`).
        package var pdftotextPath: String?

        /// - Parameters:
        ///   - maxConcurrent: default: the number of processor cores.
        ///   - timeout: default: 60 seconds.
        ///   - maxPages: default: 2,000.
        ///   - pdftotextPath: default: `pdftotext` found on `PATH` now.
        package init(
            maxConcurrent: Int = ProcessInfo.processInfo.activeProcessorCount,
            timeout: Duration = .seconds(60),
            maxPages: Int = 2_000,
            pdftotextPath: String? = Configuration.executableOnPath(named: "pdftotext")
        ) {
            self.maxConcurrent = max(1, maxConcurrent)
            self.timeout = timeout
            self.maxPages = max(1, maxPages)
            self.pdftotextPath = pdftotextPath
        }

        /// The first executable file called `name` in the directories of `PATH`, or `nil`.
        package static func executableOnPath(
            named name: String,
            environment: [String: String] = ProcessInfo.processInfo.environment
        ) -> String? {
            let directories = (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":")
            return directories
                .map { "\($0)/\(name)" }
                .first { FileManager.default.isExecutableFile(atPath: $0) }
        }
    }

    package let configuration: Configuration
    let logger: Logger
    private let slots: ExtractionSlots

    package init(configuration: Configuration = .init(), logger: Logger = Logger(label: "promptline.documents")) {
        self.configuration = configuration
        self.logger = logger
        self.slots = ExtractionSlots(count: configuration.maxConcurrent)
    }

    /// How many PDF and HTML extractions are running now.
    package var running: Int { slots.running }

    /// How many PDF and HTML extractions are waiting for one of the running ones to end.
    package var waiting: Int { slots.waiting }

    /// The text of a document.
    ///
    /// - Parameters:
    ///   - data: the document's bytes.
    ///   - format: what the document is (``DocumentFormat/identify(contentType:filename:data:)``);
    ///     the bytes are checked against it again here.
    ///   - filename: the name the user gave the file; every error message names it.
    /// - Throws: ``ExtractionError``, or `CancellationError` when the task is cancelled.
    package func extract(_ data: Data, format: DocumentFormat, filename: String) async throws -> ExtractedText {
        switch format {
        case .text, .markdown:
            return ExtractedText(text: try format.decodeUTF8(data, filename: filename), pageCount: nil)
        case .html:
            let source = try format.decodeUTF8(data, filename: filename)
            return try await slots.withSlot {
                ExtractedText(text: HTMLText.plainText(fromHTML: source), pageCount: nil)
            }
        case .pdf:
            try format.check(data, filename: filename)
            return try await slots.withSlot {
                try await extractPDF(data, filename: filename)
            }
        }
    }
}
