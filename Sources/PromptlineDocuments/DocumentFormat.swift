import Foundation

/// The kinds of document Promptline reads text from.
///
/// A format is named by the upload's content type or, when that is absent or generic
/// (`application/octet-stream`), by the file name's extension; then the bytes are checked
/// against it (``check(_:filename:)``), so a file that only claims to be a PDF is refused
/// before any work is done on it.
package enum DocumentFormat: String, Sendable, Hashable, CaseIterable {
    case pdf
    case text
    case markdown
    case html

    /// The format a file is, from its content type or its name, checked against its bytes.
    ///
    /// - Throws: ``ExtractionError`` `unsupportedType`, `notAPDF` or `notUTF8`.
    package static func identify(contentType: String?, filename: String, data: Data) throws(ExtractionError) -> Self {
        let format = try detect(contentType: contentType, filename: filename)
        try format.check(data, filename: filename)
        return format
    }

    /// The format a content type or file name names, without looking at the bytes.
    ///
    /// A content type that names a format wins, except that `text/plain` on a `.md` file is
    /// Markdown; a missing, generic or unknown content type defers to the extension.
    ///
    /// - Throws: ``ExtractionError`` `unsupportedType`, naming what is accepted.
    package static func detect(contentType: String?, filename: String) throws(ExtractionError) -> Self {
        let byExtension = Self(filenameExtension: (filename as NSString).pathExtension)
        switch contentType.flatMap(Self.init(contentType:)) {
        case .text where byExtension == .markdown: return .markdown
        case .some(let format): return format
        case nil:
            guard let byExtension else { throw .unsupportedType(filename: filename, contentType: contentType) }
            return byExtension
        }
    }

    /// The format a MIME type names (parameters such as `; charset=utf-8` are ignored), or
    /// `nil` for any other type.
    package init?(contentType: String) {
        let essence = contentType.split(separator: ";", maxSplits: 1).first ?? ""
        let type = essence.trimmingCharacters(in: .whitespaces).lowercased()
        guard let format = Self.allCases.first(where: { $0.contentTypes.contains(type) }) else { return nil }
        self = format
    }

    /// The format a file name extension (without the dot, any case) names, or `nil`.
    package init?(filenameExtension: String) {
        let lowered = filenameExtension.lowercased()
        guard let format = Self.allCases.first(where: { $0.filenameExtensions.contains(lowered) }) else { return nil }
        self = format
    }

    /// Checks that the bytes are what the format says: a PDF starts with `%PDF-`; text,
    /// Markdown and HTML are valid UTF-8.
    ///
    /// - Throws: ``ExtractionError`` `notAPDF` or `notUTF8`, naming the file.
    package func check(_ data: Data, filename: String) throws(ExtractionError) {
        switch self {
        case .pdf:
            guard data.starts(with: Self.pdfSignature) else { throw .notAPDF(filename: filename) }
        case .text, .markdown, .html:
            _ = try decodeUTF8(data, filename: filename)
        }
    }

    /// The bytes as a string, without a leading byte order mark.
    ///
    /// - Throws: ``ExtractionError`` `notUTF8` with the offset of the first invalid byte.
    func decodeUTF8(_ data: Data, filename: String) throws(ExtractionError) -> String {
        guard let text = String(validating: data, as: UTF8.self) else {
            throw .notUTF8(filename: filename, format: self, byteOffset: Self.firstInvalidUTF8Offset(in: data))
        }
        return text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
    }

    /// What people call the format, for messages.
    package var name: String {
        switch self {
        case .pdf: "PDF"
        case .text: "plain text"
        case .markdown: "Markdown"
        case .html: "HTML"
        }
    }

    /// The MIME types that name the format; the first is the one to answer with.
    package var contentTypes: [String] {
        switch self {
        case .pdf: ["application/pdf", "application/x-pdf"]
        case .text: ["text/plain"]
        case .markdown: ["text/markdown", "text/x-markdown"]
        case .html: ["text/html", "application/xhtml+xml"]
        }
    }

    /// The file name extensions that name the format, lowercase, without the dot.
    package var filenameExtensions: [String] {
        switch self {
        case .pdf: ["pdf"]
        case .text: ["txt", "text"]
        case .markdown: ["md", "markdown"]
        case .html: ["html", "htm", "xhtml"]
        }
    }

    /// `PDF (.pdf, application/pdf)`: how error messages list what is accepted.
    var acceptedForms: String {
        "\(name) (\(filenameExtensions.map { "." + $0 }.joined(separator: ", ")), \(contentTypes[0]))"
    }

    private static let pdfSignature = Data("%PDF-".utf8)

    private static func firstInvalidUTF8Offset(in data: Data) -> Int {
        var iterator = data.makeIterator()
        var decoder = UTF8()
        var offset = 0
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): offset += UTF8.width(scalar)
            case .emptyInput, .error: return offset
            }
        }
    }
}
