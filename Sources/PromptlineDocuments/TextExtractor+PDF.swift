import Foundation
import Logging

extension TextExtractor {
    /// Runs `pdftotext -layout -enc UTF-8 -l maxPages+1 document.pdf -` on a private copy of
    /// the PDF and reads its answer.
    ///
    /// The page count is the number of form feeds in the output (`pdftotext` ends every page
    /// with one), so stopping one page past the limit is enough to know the limit is exceeded.
    func extractPDF(_ data: Data, filename: String) async throws -> ExtractedText {
        guard let tool = configuration.pdftotextPath, FileManager.default.isExecutableFile(atPath: tool) else {
            throw ExtractionError.toolMissing(filename: filename, path: configuration.pdftotextPath)
        }
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("promptline-extract-\(UUID().uuidString)", isDirectory: true)
        let input = directory.appendingPathComponent("document.pdf")
        let textFile = directory.appendingPathComponent("text")
        let errorFile = directory.appendingPathComponent("errors")
        do {
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            try data.write(to: input)
        } catch {
            throw ExtractionError.toolFailed(
                filename: filename, detail: "cannot write the PDF to \(directory.path) for it: \(error)", underlying: error)
        }
        defer { try? FileManager.default.removeItem(at: directory) }

        let lastPage = configuration.maxPages < Int.max ? configuration.maxPages + 1 : configuration.maxPages
        let run = TimedProcess(
            executable: tool,
            arguments: ["-layout", "-enc", "UTF-8", "-l", String(lastPage), input.path, "-"],
            standardOutput: textFile,
            standardError: errorFile
        )
        let outcome: TimedProcess.Outcome
        do {
            outcome = try await run.run(timeout: configuration.timeout)
        } catch let error as CancellationError {
            throw error
        } catch {
            throw ExtractionError.toolFailed(filename: filename, detail: "cannot run \(tool): \(error)", underlying: error)
        }
        let said = Self.summary(ofToolOutput: errorFile)

        switch outcome {
        case .exited(0):
            break
        case .timedOut:
            logger.warning("pdftotext timed out and was killed", metadata: [
                "file": "\(filename)", "timeout": "\(configuration.timeout)",
            ])
            throw ExtractionError.timedOut(filename: filename, after: configuration.timeout)
        case .exited(1) where said.localizedCaseInsensitiveContains("password"):
            throw ExtractionError.encrypted(filename: filename, cause: "it needs a password; pdftotext: \(said)")
        case .exited(1):
            throw ExtractionError.malformed(filename: filename, toolOutput: said.isEmpty ? "exit status 1" : said)
        case .exited(3):
            throw ExtractionError.encrypted(filename: filename, cause: "its permissions forbid copying its text")
        case .exited(let status):
            throw ExtractionError.toolFailed(filename: filename, detail: "exit status \(status)\(said.isEmpty ? "" : ": \(said)")")
        case .signalled(let signal):
            throw ExtractionError.toolFailed(filename: filename, detail: "ended by signal \(signal)\(said.isEmpty ? "" : ": \(said)")")
        }

        let output: Data
        do {
            output = try Data(contentsOf: textFile)
        } catch {
            throw ExtractionError.toolFailed(filename: filename, detail: "cannot read its output: \(error)", underlying: error)
        }
        let formFeeds = output.reduce(into: 0) { count, byte in if byte == 0x0C { count += 1 } }
        let text = String(decoding: output, as: UTF8.self)
        let pageCount = formFeeds > 0 ? formFeeds : (text.isEmpty ? 0 : 1)
        if pageCount > configuration.maxPages {
            throw ExtractionError.tooManyPages(filename: filename, limit: configuration.maxPages)
        }
        if text.allSatisfy(\.isWhitespace) {
            throw ExtractionError.noText(filename: filename, toolOutput: said)
        }
        logger.debug("extracted the text of a PDF", metadata: [
            "file": "\(filename)", "pages": "\(pageCount)", "bytes": "\(output.count)",
        ])
        return ExtractedText(text: text, pageCount: pageCount)
    }

    /// What `pdftotext` wrote on stderr, for an error message: its distinct lines, in order,
    /// joined with `; ` and cut to a few hundred characters.
    private static func summary(ofToolOutput file: URL) -> String {
        guard let handle = try? FileHandle(forReadingFrom: file) else { return "" }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: 16_384)) ?? Data()
        var seen = Set<Substring>()
        let lines = String(decoding: data, as: UTF8.self)
            .split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces)[...] }
            .filter { !$0.isEmpty && seen.insert($0).inserted }
        let joined = lines.joined(separator: "; ")
        return joined.count > 400 ? String(joined.prefix(400)) + "…" : joined
    }
}
