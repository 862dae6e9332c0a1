/// The text of one document.
package struct ExtractedText: Sendable, Hashable {
    /// The document's text. A PDF's pages end with a form feed (U+000C), as `pdftotext` writes them.
    package var text: String
    /// How many pages the document has; `nil` for formats without pages (text, Markdown, HTML).
    package var pageCount: Int?

    package init(text: String, pageCount: Int?) {
        self.text = text
        self.pageCount = pageCount
    }
}
