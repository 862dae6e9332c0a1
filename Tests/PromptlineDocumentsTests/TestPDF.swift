import Foundation

/// Minimal PDFs written byte by byte, so the tests need no PDF library.
///
/// Unicode pages use a Type0 font with the Identity-H encoding: the content stream shows
/// two-byte glyph ids, and a /ToUnicode CMap maps each id to its character. The font is not
/// embedded; `pdftotext` reads the text through the CMap alone. Latin pages use the standard
/// Helvetica font with its built-in encoding.
enum TestPDF {
    enum Page {
        /// Any text, through the Type0 font.
        case unicode(String)
        /// Printable ASCII, in Helvetica.
        case latin(String)
        /// A page with no text at all.
        case blank
    }

    static func make(_ pages: [Page]) -> Data {
        var glyphs: [Unicode.Scalar] = []
        for case .unicode(let text) in pages {
            for scalar in text.unicodeScalars where !glyphs.contains(scalar) { glyphs.append(scalar) }
        }
        func glyphID(_ scalar: Unicode.Scalar) -> Int { glyphs.firstIndex(of: scalar)! + 1 }

        var objects: [Int: Data] = [:]
        objects[3] = Data("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".utf8)
        objects[4] = Data("""
            << /Type /Font /Subtype /Type0 /BaseFont /NotEmbedded /Encoding /Identity-H \
            /DescendantFonts [5 0 R] /ToUnicode 7 0 R >>
            """.utf8)
        objects[5] = Data("""
            << /Type /Font /Subtype /CIDFontType2 /BaseFont /NotEmbedded \
            /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> \
            /FontDescriptor 6 0 R /DW 1000 >>
            """.utf8)
        objects[6] = Data("""
            << /Type /FontDescriptor /FontName /NotEmbedded /Flags 4 /FontBBox [0 -200 1000 900] \
            /ItalicAngle 0 /Ascent 900 /Descent -200 /CapHeight 700 /StemV 80 >>
            """.utf8)
        var cmap = """
            /CIDInit /ProcSet findresource begin
            12 dict begin
            begincmap
            /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
            /CMapName /Adobe-Identity-UCS def
            /CMapType 2 def
            1 begincodespacerange
            <0000> <FFFF>
            endcodespacerange
            \(glyphs.count) beginbfchar

            """
        for scalar in glyphs {
            let utf16 = String(scalar).utf16.map { hex($0, digits: 4) }.joined()
            cmap += "<\(hex(glyphID(scalar), digits: 4))> <\(utf16)>\n"
        }
        cmap += "endbfchar\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
        objects[7] = stream(Data(cmap.utf8))

        var kids: [Int] = []
        var number = 8
        for page in pages {
            let content: String
            switch page {
            case .unicode(let text):
                let ids = text.unicodeScalars.map { hex(glyphID($0), digits: 4) }.joined()
                content = "BT /F2 24 Tf 72 700 Td <\(ids)> Tj ET"
            case .latin(let text):
                let escaped = text.replacingOccurrences(of: "\\", with: "\\\\")
                    .replacingOccurrences(of: "(", with: "\\(").replacingOccurrences(of: ")", with: "\\)")
                content = "BT /F1 24 Tf 72 700 Td (\(escaped)) Tj ET"
            case .blank:
                content = ""
            }
            objects[number] = Data("""
                << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] \
                /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents \(number + 1) 0 R >>
                """.utf8)
            objects[number + 1] = stream(Data(content.utf8))
            kids.append(number)
            number += 2
        }
        objects[1] = Data("<< /Type /Catalog /Pages 2 0 R >>".utf8)
        objects[2] = Data("<< /Type /Pages /Kids [\(kids.map { "\($0) 0 R" }.joined(separator: " "))] /Count \(kids.count) >>".utf8)

        // The header's second line has bytes over 127, marking the file as binary.
        var pdf = Data("%PDF-1.7\n".utf8) + Data([0x25, 0xE2, 0xE3, 0xCF, 0xD3, 0x0A])
        var offsets: [Int] = []
        for object in 1..<number {
            offsets.append(pdf.count)
            pdf += Data("\(object) 0 obj\n".utf8) + objects[object]! + Data("\nendobj\n".utf8)
        }
        let xref = pdf.count
        var table = "xref\n0 \(number)\n0000000000 65535 f \n"
        for offset in offsets {
            table += "\(pad(String(offset), to: 10)) 00000 n \n"
        }
        table += "trailer\n<< /Size \(number) /Root 1 0 R >>\nstartxref\n\(xref)\n%%EOF\n"
        pdf += Data(table.utf8)
        return pdf
    }

    private static func stream(_ content: Data) -> Data {
        Data("<< /Length \(content.count) >>\nstream\n".utf8) + content + Data("\nendstream".utf8)
    }

    private static func hex(_ value: some BinaryInteger, digits: Int) -> String {
        pad(String(value, radix: 16, uppercase: true), to: digits)
    }

    private static func pad(_ text: String, to width: Int) -> String {
        String(repeating: "0", count: max(0, width - text.count)) + text
    }
}
