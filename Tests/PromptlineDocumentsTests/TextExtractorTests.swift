import Foundation
import PromptlineDocuments
import Testing
#if canImport(Glibc)
import Glibc
#endif

private let qpdfPath = TextExtractor.Configuration.executableOnPath(named: "qpdf")

/// Extraction through the real `pdftotext` (poppler-utils, which scripts/test.sh installs),
/// and through stand-in scripts for the cases a real one cannot be made to show on demand.
@Suite struct TextExtractorTests {
    let cafeAndKorean = TestPDF.make([.unicode("café 요약"), .latin("Hello from a plain page")])

    @Test func extractsUnicodeTextThroughToUnicodeAndLatinText() async throws {
        let extracted = try await TextExtractor().extract(cafeAndKorean, format: .pdf, filename: "menu.pdf")
        #expect(extracted.text.contains("café"))
        #expect(extracted.text.contains("요약"))
        #expect(extracted.text.contains("Hello from a plain page"))
        #expect(extracted.pageCount == 2)
        #expect(extracted.text.filter { $0 == "\u{0C}" }.count == 2)
    }

    @Test(.enabled(if: qpdfPath != nil, "qpdf is not installed: apt-get install -y qpdf"))
    func encryptedPDFIsRefusedNamingTheFile() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let plain = try scratch.write(cafeAndKorean, to: "plain.pdf")
        try ScratchDirectory.run(qpdfPath!, ["--encrypt", "user", "owner", "256", "--", plain, scratch.path("locked.pdf")])
        let locked = try Data(contentsOf: URL(fileURLWithPath: scratch.path("locked.pdf")))

        let error = await #expect(throws: ExtractionError.self) {
            try await TextExtractor().extract(locked, format: .pdf, filename: "locked.pdf")
        }
        #expect(error?.code == .encrypted)
        #expect(error?.filename == "locked.pdf")
        #expect(error?.message.hasPrefix("locked.pdf: the PDF is encrypted") == true)
        #expect(error?.message.contains("Incorrect password") == true)
    }

    @Test func truncatedPDFIsMalformedWithWhatPdftotextSaid() async throws {
        let truncated = cafeAndKorean.prefix(cafeAndKorean.count / 2)
        let error = await #expect(throws: ExtractionError.self) {
            try await TextExtractor().extract(Data(truncated), format: .pdf, filename: "half.pdf")
        }
        #expect(error?.code == .malformed)
        #expect(error?.message.hasPrefix("half.pdf: the PDF is damaged or malformed (pdftotext: ") == true)
        #expect(error?.message.contains("xref") == true)
    }

    @Test func fileClaimingToBePDFThatIsNotIsRefusedBeforeAnyTool() async throws {
        // A pdftotext that would fail the test if it ran.
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let tool = try scratch.script("pdftotext", "touch '\(scratch.path("ran"))'; exit 1")
        let extractor = TextExtractor(configuration: .init(pdftotextPath: tool))

        let error = await #expect(throws: ExtractionError.self) {
            try await extractor.extract(Data("hello, I am text\n".utf8), format: .pdf, filename: "fake.pdf")
        }
        #expect(error?.code == .notAPDF)
        #expect(error?.message == "fake.pdf: claims to be a PDF but is not one (it does not start with %PDF-)")
        #expect(scratch.read("ran") == nil)
    }

    @Test func pageLimitIsEnforcedAndPagesAreCounted() async throws {
        let threePages = TestPDF.make([.latin("one"), .latin("two"), .latin("three")])
        let error = await #expect(throws: ExtractionError.self) {
            try await TextExtractor(configuration: .init(maxPages: 2)).extract(threePages, format: .pdf, filename: "long.pdf")
        }
        #expect(error?.code == .tooManyPages)
        #expect(error?.message == "long.pdf: the PDF has more than 2 pages, the limit")

        let extracted = try await TextExtractor(configuration: .init(maxPages: 3)).extract(threePages, format: .pdf, filename: "long.pdf")
        #expect(extracted.pageCount == 3)
        #expect(extracted.text.contains("three"))
    }

    @Test func pdftotextIsToldToStopOnePagePastTheLimit() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        // Records its arguments and the first bytes of the file it was given.
        let tool = try scratch.script("pdftotext", """
            echo "$@" > '\(scratch.path("arguments"))'
            head -c 5 "$6" > '\(scratch.path("header"))'
            printf 'page one\\f'
            """)
        let extractor = TextExtractor(configuration: .init(maxPages: 7, pdftotextPath: tool))
        let extracted = try await extractor.extract(cafeAndKorean, format: .pdf, filename: "a.pdf")
        #expect(extracted == ExtractedText(text: "page one\u{0C}", pageCount: 1))
        let arguments = try #require(scratch.read("arguments")).trimmingCharacters(in: .newlines).split(separator: " ")
        #expect(arguments.count == 7)
        #expect(arguments.prefix(5) == ["-layout", "-enc", "UTF-8", "-l", "8"])
        #expect(arguments.last == "-")
        #expect(scratch.read("header") == "%PDF-")
    }

    @Test func pdfWithoutTextSaysScannedWithoutText() async throws {
        let blank = TestPDF.make([.blank, .blank])
        let error = await #expect(throws: ExtractionError.self) {
            try await TextExtractor().extract(blank, format: .pdf, filename: "scan.pdf")
        }
        #expect(error?.code == .noText)
        #expect(error?.message.hasPrefix("scan.pdf: the PDF has no text to extract, as when it is scanned without text") == true)
    }

    @Test func missingPdftotextSaysToInstallPopplerUtils() async throws {
        let extractor = TextExtractor(configuration: .init(pdftotextPath: "/nonexistent/pdftotext"))
        let error = await #expect(throws: ExtractionError.self) {
            try await extractor.extract(cafeAndKorean, format: .pdf, filename: "a.pdf")
        }
        #expect(error?.code == .toolMissing)
        #expect(error?.message == "a.pdf: cannot extract text from a PDF: pdftotext was not found at /nonexistent/pdftotext (install poppler-utils)")

        let notOnPath = TextExtractor.Configuration.executableOnPath(named: "pdftotext", environment: ["PATH": "/nonexistent"])
        #expect(notOnPath == nil)
    }

    @Test func pdftotextFailingOtherwiseIsReportedWithItsStderr() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let tool = try scratch.script("pdftotext", "echo 'I/O Error: disk on fire' >&2; exit 99")
        let error = await #expect(throws: ExtractionError.self) {
            try await TextExtractor(configuration: .init(pdftotextPath: tool)).extract(cafeAndKorean, format: .pdf, filename: "a.pdf")
        }
        #expect(error?.code == .toolFailed)
        #expect(error?.message == "a.pdf: pdftotext failed: exit status 99: I/O Error: disk on fire")
    }

    @Test func hungPdftotextIsKilledAtTheTimeout() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        // `exec` keeps the pid the script wrote: the process killed is the one that sleeps.
        let tool = try scratch.script("pdftotext", "echo $$ > '\(scratch.path("pid"))'\nexec sleep 600")
        let extractor = TextExtractor(configuration: .init(timeout: .seconds(1), pdftotextPath: tool))

        let error = await #expect(throws: ExtractionError.self) {
            try await extractor.extract(cafeAndKorean, format: .pdf, filename: "slow.pdf")
        }
        #expect(error?.code == .timedOut)
        #expect(error?.message == "slow.pdf: pdftotext timed out after 1 s and was killed")
        let pid = try #require(scratch.read("pid").flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
        #expect(!isAlive(pid))
    }

    @Test func cancellingTheTaskKillsPdftotext() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let tool = try scratch.script("pdftotext", "echo $$ > '\(scratch.path("pid"))'\nexec sleep 600")
        let extractor = TextExtractor(configuration: .init(timeout: .seconds(600), pdftotextPath: tool))
        let pdf = cafeAndKorean

        let extraction = Task { try await extractor.extract(pdf, format: .pdf, filename: "a.pdf") }
        try await waitUntil("the stand-in wrote its pid") { scratch.read("pid")?.hasSuffix("\n") == true }
        let pid = try #require(scratch.read("pid").flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
        #expect(isAlive(pid))
        extraction.cancel()
        await #expect(throws: CancellationError.self) { try await extraction.value }
        #expect(!isAlive(pid))
        #expect(extractor.running == 0)
    }

    @Test func atMostMaxConcurrentExtractionsRunAtOnce() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let record = scratch.path("record")
        // Each run notes its start, waits for the test's go, notes its end.
        let tool = try scratch.script("pdftotext", """
            echo "start $$" >> '\(record)'
            while [ ! -e '\(scratch.path("go"))' ]; do sleep 0.02; done
            echo "end $$" >> '\(record)'
            printf 'page\\f'
            """)
        let extractor = TextExtractor(configuration: .init(maxConcurrent: 2, pdftotextPath: tool))
        let pdf = cafeAndKorean
        func lines() -> [Substring] { (scratch.read("record") ?? "").split(separator: "\n") }

        try await withThrowingTaskGroup(of: ExtractedText.self) { group in
            for number in 1...5 {
                group.addTask { try await extractor.extract(pdf, format: .pdf, filename: "\(number).pdf") }
            }
            // Two are running and three are queued: none of those three has started.
            try await waitUntil("two run and three wait") {
                lines().count == 2 && extractor.running == 2 && extractor.waiting == 3
            }
            #expect(lines().allSatisfy { $0.hasPrefix("start ") })
            try scratch.write(Data(), to: "go")
            var results = 0
            for try await extracted in group {
                #expect(extracted.text == "page\u{0C}")
                results += 1
            }
            #expect(results == 5)
        }

        var running = 0
        var most = 0
        for line in lines() {
            running += line.hasPrefix("start ") ? 1 : -1
            most = max(most, running)
        }
        #expect(lines().count == 10)
        #expect(running == 0)
        #expect(most == 2)
        #expect(extractor.running == 0 && extractor.waiting == 0)
    }

    @Test func textAndMarkdownComeBackAsTheyAre() async throws {
        let markdown = "# Title\n\nSome *text* with café and 요약.\n"
        let extracted = try await TextExtractor().extract(Data(markdown.utf8), format: .markdown, filename: "notes.md")
        #expect(extracted == ExtractedText(text: markdown, pageCount: nil))

        let withBOM = Data([0xEF, 0xBB, 0xBF]) + Data("plain".utf8)
        #expect(try await TextExtractor().extract(withBOM, format: .text, filename: "a.txt").text == "plain")

        let error = await #expect(throws: ExtractionError.self) {
            try await TextExtractor().extract(Data([0x61, 0x62, 0xFF, 0x63]), format: .text, filename: "latin1.txt")
        }
        #expect(error?.code == .notUTF8)
        #expect(error?.message == "latin1.txt: plain text must be UTF-8, and byte 2 is not valid UTF-8")
    }

    @Test func htmlComesBackAsText() async throws {
        let html = "<html><head><title>T</title></head><body><p>Caf&eacute; &amp; 요약</p><p>Two</p></body></html>"
        let extracted = try await TextExtractor().extract(Data(html.utf8), format: .html, filename: "page.html")
        #expect(extracted == ExtractedText(text: "Café & 요약\n\nTwo", pageCount: nil))
    }

    private func isAlive(_ pid: pid_t) -> Bool {
        kill(pid, 0) == 0 || errno != ESRCH
    }
}
