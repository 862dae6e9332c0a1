import Foundation
import PromptlineCore
@testable import PromptlineServer
import Testing

@Suite struct BatchInputTests {
    static func line(_ id: String, _ body: String = #"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#) -> String {
        #"{"custom_id":"\#(id)","method":"POST","url":"/v1/chat/completions","body":\#(body)}"#
    }

    @Test func readsLinesInOrderSkippingBlankOnes() throws {
        let text = [Self.line("a"), "", Self.line("b") + "\r", "   ", Self.line("c")].joined(separator: "\n") + "\n"
        let input = try BatchInput(Data(text.utf8), maxRequests: 10)
        #expect(input.lines.map(\.customID) == ["a", "b", "c"])
    }

    @Test(arguments: [
        ("not json", "line 2: not valid JSON"),
        (#"[1]"#, "line 2: expected a JSON object"),
        (#"{"method":"POST","url":"/v1/chat/completions","body":{}}"#, "line 2: custom_id"),
        (#"{"custom_id":"x","method":"GET","url":"/v1/chat/completions","body":{}}"#, "line 2: method"),
        (#"{"custom_id":"x","method":"POST","url":"/v1/embeddings","body":{}}"#, "line 2: url"),
        (line("x", #"{"messages":[]}"#), "line 2: body.messages"),
        (line("x", #"{"messages":[{"role":"user"}]}"#), "line 2: body.messages[0]"),
        (line("x", #"{"messages":[{"role":"user","content":"a"}],"max_tokens":0}"#), "line 2: body.max_tokens"),
        (line("x", #"{"messages":[{"role":"user","content":"a"}],"temperature":3}"#), "line 2: body.temperature"),
        (line("x", #"{"messages":[{"role":"user","content":"a"}],"stream":true}"#), "line 2: body.stream"),
        (line("a"), "line 2: custom_id 'a' is used by an earlier line"),
    ])
    func namesTheFirstBadLine(bad: String, message: String) throws {
        let text = [Self.line("a"), bad, "also bad"].joined(separator: "\n")
        let error = try #require(throws: APIError.self) { try BatchInput(Data(text.utf8), maxRequests: 10) }
        #expect(error.message.hasPrefix(message), "\(error.message)")
        #expect(error.status == .badRequest)
    }

    @Test func refusesAnEmptyFileAndTooManyRequests() throws {
        #expect(throws: APIError.self) { try BatchInput(Data("\n\n".utf8), maxRequests: 10) }
        let three = [Self.line("a"), Self.line("b"), Self.line("c")].joined(separator: "\n")
        let error = try #require(throws: APIError.self) { try BatchInput(Data(three.utf8), maxRequests: 2) }
        #expect(error.message.contains("more than 2 requests"))
    }

    @Test func aLineBecomesATaskKeepingEveryOtherParameter() throws {
        let body = #"{"model":"gpt-x","messages":[{"role":"system","content":"s"},{"role":"user","content":"u"}],"max_completion_tokens":7,"temperature":0,"top_p":0.5,"seed":3,"cache":false}"#
        let input = try BatchInput(Data(Self.line("a", body).utf8), maxRequests: 1)
        let defaults = SubmitPolicy(defaultModel: "default", defaultMaxTokens: 100, defaultTemperature: 0.7)
        let request = BatchInput.request(input.lines[0].body, defaults: defaults)
        #expect(request.model == "gpt-x" && request.maxTokens == 7 && request.temperature == 0)
        #expect(request.messages == [ChatMessage(role: "system", content: "s"), ChatMessage(role: "user", content: "u")])
        #expect(request.parameters == ["top_p": .number(0.5), "seed": .number(3)])
        #expect(!request.cacheable)
        let bare = BatchInput.request(try BatchInput(Data(Self.line("b").utf8), maxRequests: 1).lines[0].body, defaults: defaults)
        #expect(bare.maxTokens == 100 && bare.temperature == 0.7 && bare.cacheable && bare.parameters.isEmpty)
    }
}

@Suite struct MultipartFormTests {
    @Test func readsTheBoundaryOfAContentType() {
        #expect(MultipartForm.boundary(ofContentType: "multipart/form-data; boundary=abc") == "abc")
        #expect(MultipartForm.boundary(ofContentType: #"Multipart/Form-Data;boundary="a b""#) == "a b")
        #expect(MultipartForm.boundary(ofContentType: "application/json") == nil)
        #expect(MultipartForm.boundary(ofContentType: "multipart/form-data") == nil)
        #expect(MultipartForm.boundary(ofContentType: "multipart/form-data; charset=utf-8; boundary=----=_Part_0") == "----=_Part_0")
        #expect(MultipartForm.boundary(ofContentType: #"multipart/form-data; boundary="unclosed"#) == nil)
    }

    @Test func splitsPartsKeepingBytesExact() throws {
        let file = "line one\r\n--not the boundary\r\n\u{0}binary\n"
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n"
            + "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in.jsonl\"\r\nContent-Type: application/jsonl\r\n\r\n"
            + file + "\r\n--XyZ--\r\n"
        let form = try MultipartForm(Data(body.utf8), boundary: "XyZ")
        #expect(form.parts.count == 2)
        #expect(form.part(named: "purpose").map { String(decoding: $0.data, as: UTF8.self) } == "batch")
        let part = try #require(form.part(named: "file"))
        #expect(part.filename == "in.jsonl")
        #expect(Data(part.data) == Data(file.utf8))
    }

    @Test(arguments: [
        "no boundary here",
        "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nnever closed",
        "--B\r\nContent-Disposition: form-data; name=\"a\"",
        "--B\r\nContent-Type: text/plain\r\n\r\nx\r\n--B--",
    ])
    func refusesMalformedBodies(body: String) {
        #expect(throws: MultipartForm.FormError.self) { try MultipartForm(Data(body.utf8), boundary: "B") }
    }

    /// The file name a one-part form gives for `disposition`, its Content-Disposition value.
    private static func filename(_ disposition: String) throws -> String? {
        let body = "--B\r\nContent-Disposition: \(disposition)\r\n\r\n{}\r\n--B--\r\n"
        return try #require(try MultipartForm(Data(body.utf8), boundary: "B").part(named: "file")).filename
    }

    @Test func readsQuotedFileNamesWholeWithTheirEscapes() throws {
        #expect(try Self.filename(#"form-data; name="file"; filename="a;b.jsonl""#) == "a;b.jsonl")
        #expect(try Self.filename(#"form-data; filename="say \"hi\"; \\ok.jsonl"; name=file"#) == #"say "hi"; \ok.jsonl"#)
        #expect(try Self.filename(#"form-data;name="file";filename="""#) == "")
        #expect(try Self.filename(#"form-data; name="file"; filename=plain.jsonl;"#) == "plain.jsonl")
        #expect(try Self.filename(#"form-data; name="file""#) == nil)
    }

    @Test func prefersTheExtendedFileName() throws {
        let naive = "na\u{EF}ve;file.jsonl"
        #expect(try Self.filename(#"form-data; name="file"; filename*=UTF-8''na%C3%AFve%3Bfile.jsonl"#) == naive)
        #expect(try Self.filename(#"form-data; name="file"; filename="naive.jsonl"; filename*=utf-8'en'na%c3%afve%3Bfile.jsonl"#) == naive)
        #expect(try Self.filename(#"form-data; name="file"; filename*=UTF-8''na%C3%AFve%3Bfile.jsonl; filename="naive.jsonl""#) == naive)
        #expect(try Self.filename(#"form-data; name="file"; filename*=ISO-8859-1''%A3%20rates.jsonl"#) == "\u{A3} rates.jsonl")
    }

    @Test(arguments: [
        (#"form-data; name="file"; filename="never closed"#, "quoted string that is never closed"),
        (#"form-data; name="file"; filename="ends in a backslash\"#, "quoted string that is never closed"),
        (#"form-data; name="file"; filename="a"b"#, "expected ';'"),
        (#"form-data; name="file"; filename"#, "filename has no '='"),
        (#"form-data; name="file"; filename="#, "filename has no value"),
        (#"form-data; name="file"; ="x""#, "a parameter has no name"),
        (#"form-data; name="file"; name="other""#, "name is given twice"),
        (#"; name="file""#, "no value stands before the parameters"),
        (#"form-data; name="file"; filename*=na%C3%AFve.jsonl"#, "not charset'language'value"),
        (#"form-data; name="file"; filename*=UTF-8''na%C3%Ave"#, "not followed by two hex digits"),
        (#"form-data; name="file"; filename*=UTF-8''%E2%82"#, "not valid UTF-8"),
        (#"form-data; name="file"; filename*=UTF-8''a/b"#, "must be percent-encoded"),
        (#"form-data; name="file"; filename*=KOI8-R''%C1"#, "charset KOI8-R"),
    ])
    func refusesMalformedDispositionsSayingWhy(disposition: String, reason: String) {
        let error = #expect(throws: MultipartForm.FormError.self) { try Self.filename(disposition) }
        #expect(error?.description.hasPrefix("a multipart part's Content-Disposition is malformed: ") == true)
        #expect(error?.description.contains(reason) == true, "\(error?.description ?? "")")
    }
}
