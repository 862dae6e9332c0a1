import Foundation
import PromptlineDocuments
import Testing

@Suite struct DocumentFormatTests {
    @Test(arguments: [
        ("application/pdf", "x.bin", DocumentFormat.pdf),
        ("application/PDF; charset=binary", "x", .pdf),
        ("text/plain", "notes", .text),
        ("text/plain; charset=utf-8", "notes.md", .markdown),
        ("text/markdown", "README", .markdown),
        ("text/html; charset=UTF-8", "page", .html),
        ("application/xhtml+xml", "page", .html),
        ("text/html", "report.pdf", .html),
    ] as [(String, String, DocumentFormat)])
    func contentTypeNamesTheFormat(contentType: String, filename: String, format: DocumentFormat) throws {
        #expect(try DocumentFormat.detect(contentType: contentType, filename: filename) == format)
    }

    @Test(arguments: [
        ("report.PDF", DocumentFormat.pdf), ("a.txt", .text), ("a.text", .text), ("a.md", .markdown),
        ("a.markdown", .markdown), ("a.html", .html), ("a.HTM", .html), ("dir.v2/a.xhtml", .html),
    ] as [(String, DocumentFormat)])
    func extensionNamesTheFormatWhenTheContentTypeDoesNot(filename: String, format: DocumentFormat) throws {
        for contentType in [nil, "application/octet-stream", "", "image/png"] as [String?] {
            #expect(try DocumentFormat.detect(contentType: contentType, filename: filename) == format)
        }
    }

    @Test func unknownTypeIsRefusedNamingWhatIsAccepted() {
        let error = #expect(throws: ExtractionError.self) {
            try DocumentFormat.detect(contentType: "application/msword", filename: "letter.doc")
        }
        #expect(error?.code == .unsupportedType)
        #expect(error?.message == """
            letter.doc: unsupported document type (content type application/msword); accepted: \
            PDF (.pdf, application/pdf); plain text (.txt, .text, text/plain); \
            Markdown (.md, .markdown, text/markdown); HTML (.html, .htm, .xhtml, text/html)
            """)
        let noType = #expect(throws: ExtractionError.self) { try DocumentFormat.detect(contentType: nil, filename: "README") }
        #expect(noType?.message.hasPrefix("README: unsupported document type (no content type); accepted: PDF") == true)
    }

    @Test func identifyChecksTheBytes() throws {
        let pdf = Data("%PDF-1.7\n...".utf8)
        #expect(try DocumentFormat.identify(contentType: nil, filename: "a.pdf", data: pdf) == .pdf)

        let fake = #expect(throws: ExtractionError.self) {
            try DocumentFormat.identify(contentType: "application/pdf", filename: "invoice.pdf", data: Data("<html>".utf8))
        }
        #expect(fake?.code == .notAPDF)
        #expect(fake?.message.hasPrefix("invoice.pdf: ") == true)
        // The signature must be at the very start.
        #expect(throws: ExtractionError.self) {
            try DocumentFormat.identify(contentType: nil, filename: "a.pdf", data: Data(" %PDF-1.7".utf8))
        }

        #expect(try DocumentFormat.identify(contentType: nil, filename: "a.md", data: Data("요약 café".utf8)) == .markdown)
        // "é" in Latin-1, then a truncated three-byte sequence.
        for (bytes, offset) in [([0x63, 0x61, 0x66, 0xE9], 3), ([0xEC, 0x9A, 0x94, 0xEC, 0x95], 3), ([0x80], 0)] as [([UInt8], Int)] {
            let error = #expect(throws: ExtractionError.self) {
                try DocumentFormat.identify(contentType: "text/html", filename: "page.html", data: Data(bytes))
            }
            #expect(error?.code == .notUTF8)
            #expect(error?.message == "page.html: HTML must be UTF-8, and byte \(offset) is not valid UTF-8")
        }
    }
}
