/// Why a document was refused or its text could not be extracted.
///
/// Every ``message`` names the file and the cause, for the person who uploaded it;
/// ``code`` is what code compares against, and its description is a short label with no
/// dynamic values (for logs and metric labels).
package struct ExtractionError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: String, Hashable, Sendable {
            case unsupportedType = "unsupported type"
            case notAPDF = "not a PDF"
            case notUTF8 = "not UTF-8"
            case encrypted
            case malformed
            case noText = "no text"
            case tooManyPages = "too many pages"
            case timedOut = "timed out"
            case toolMissing = "tool missing"
            case toolFailed = "tool failed"
        }

        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// Neither the content type nor the file name's extension is one of the accepted formats.
        package static let unsupportedType = Self(.unsupportedType)
        /// The file claims to be a PDF but does not start with `%PDF-`.
        package static let notAPDF = Self(.notAPDF)
        /// A text, Markdown or HTML file that is not valid UTF-8.
        package static let notUTF8 = Self(.notUTF8)
        /// The PDF needs a password, or its permissions forbid copying its text.
        package static let encrypted = Self(.encrypted)
        /// `pdftotext` could not read the PDF (truncated, damaged, not really a PDF).
        package static let malformed = Self(.malformed)
        /// The PDF has no text to extract: scanned pages without a text layer, or blank pages.
        package static let noText = Self(.noText)
        /// The PDF has more pages than the configured limit.
        package static let tooManyPages = Self(.tooManyPages)
        /// `pdftotext` did not finish in time and was killed.
        package static let timedOut = Self(.timedOut)
        /// `pdftotext` is not installed (or not at the configured path).
        package static let toolMissing = Self(.toolMissing)
        /// `pdftotext` could not be started, crashed, or failed in a way none of the other codes describe.
        package static let toolFailed = Self(.toolFailed)

        package var description: String { value.rawValue }
    }

    /// What kind of failure this is.
    package let code: Code
    /// The name of the file the error is about, as the user gave it.
    package let filename: String
    /// What went wrong, for a person to read; it names the file and the cause.
    package let message: String
    /// The error that caused this one, if any.
    package let underlying: (any Error)?

    private init(_ code: Code, filename: String, message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.filename = filename
        self.message = message
        self.underlying = underlying
    }

    package var description: String { message }

    static func unsupportedType(filename: String, contentType: String?) -> Self {
        let given = contentType.map { "content type \($0)" } ?? "no content type"
        let accepted = DocumentFormat.allCases.map(\.acceptedForms).joined(separator: "; ")
        return .init(.unsupportedType, filename: filename,
                     message: "\(filename): unsupported document type (\(given)); accepted: \(accepted)")
    }

    static func notAPDF(filename: String) -> Self {
        .init(.notAPDF, filename: filename,
              message: "\(filename): claims to be a PDF but is not one (it does not start with %PDF-)")
    }

    static func notUTF8(filename: String, format: DocumentFormat, byteOffset: Int) -> Self {
        .init(.notUTF8, filename: filename,
              message: "\(filename): \(format.name) must be UTF-8, and byte \(byteOffset) is not valid UTF-8")
    }

    static func encrypted(filename: String, cause: String) -> Self {
        .init(.encrypted, filename: filename,
              message: "\(filename): the PDF is encrypted (\(cause)); upload it without a password or copy restrictions")
    }

    static func malformed(filename: String, toolOutput: String) -> Self {
        .init(.malformed, filename: filename,
              message: "\(filename): the PDF is damaged or malformed (pdftotext: \(toolOutput))")
    }

    static func noText(filename: String, toolOutput: String) -> Self {
        let said = toolOutput.isEmpty ? "" : " (pdftotext: \(toolOutput))"
        return .init(.noText, filename: filename,
                     message: "\(filename): the PDF has no text to extract, as when it is scanned without text\(said); run OCR on it first")
    }

    static func tooManyPages(filename: String, limit: Int) -> Self {
        .init(.tooManyPages, filename: filename,
              message: "\(filename): the PDF has more than \(limit) pages, the limit")
    }

    static func timedOut(filename: String, after timeout: Duration) -> Self {
        .init(.timedOut, filename: filename,
              message: "\(filename): pdftotext timed out after \(Self.seconds(timeout)) s and was killed")
    }

    static func toolMissing(filename: String, path: String?) -> Self {
        let what = path.map { "pdftotext was not found at \($0)" } ?? "pdftotext was not found on PATH"
        return .init(.toolMissing, filename: filename,
                     message: "\(filename): cannot extract text from a PDF: \(what) (install poppler-utils)")
    }

    static func toolFailed(filename: String, detail: String, underlying: (any Error)? = nil) -> Self {
        .init(.toolFailed, filename: filename, message: "\(filename): pdftotext failed: \(detail)", underlying: underlying)
    }

    /// Whole seconds as `60`, fractions to the millisecond as `1.5`.
    private static func seconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let milliseconds = attoseconds / 1_000_000_000_000_000
        guard milliseconds > 0 else { return "\(seconds)" }
        var fraction = String(milliseconds)
        while fraction.count < 3 { fraction = "0" + fraction }
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(seconds).\(fraction)"
    }
}
