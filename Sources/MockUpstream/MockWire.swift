import NIOCore

/// The JSON bodies and server-sent events the mock sends, written straight into `ByteBuffer`s.
enum MockWire {
    /// A complete `chat.completion` object.
    static func writeCompletion(
        _ answer: ChatAnswer, id: String, created: Int, model: String, into buffer: inout ByteBuffer
    ) {
        buffer.writeStaticString(#"{"id":"#)
        buffer.writeJSONString(id)
        buffer.writeStaticString(#","object":"chat.completion","created":"#)
        buffer.writeDecimal(created)
        buffer.writeStaticString(#","model":"#)
        buffer.writeJSONString(model)
        buffer.writeStaticString(#","choices":[{"index":0,"message":{"role":"assistant","content":"#)
        writeContent(answer, tokens: 0..<answer.tokens.count, into: &buffer)
        buffer.writeStaticString(#","refusal":null},"logprobs":null,"finish_reason":"#)
        buffer.writeJSONString(answer.finishReason)
        buffer.writeStaticString(#"}],"usage":"#)
        writeUsage(answer, into: &buffer)
        buffer.writeStaticString(#","system_fingerprint":"fp_mock"}"#)
    }

    /// An embeddings `list`: one `embedding` per text, in order, as numbers or (`base64`)
    /// as float32 little-endian bytes in base64.
    static func writeEmbeddings(
        _ vectors: [[Float]], format: EmbeddingRequest.EncodingFormat, model: String, promptTokens: Int,
        into buffer: inout ByteBuffer
    ) {
        buffer.writeStaticString(#"{"object":"list","data":["#)
        for (index, vector) in vectors.enumerated() {
            if index > 0 { buffer.writeStaticString(",") }
            buffer.writeStaticString(#"{"object":"embedding","index":"#)
            buffer.writeDecimal(index)
            buffer.writeStaticString(#","embedding":"#)
            switch format {
            case .base64:
                buffer.writeJSONString(MockEmbedding.base64(vector))
            case .float:
                buffer.writeStaticString("[")
                for (component, value) in vector.enumerated() {
                    if component > 0 { buffer.writeStaticString(",") }
                    // The shortest text that reads back as this float32.
                    buffer.writeString(value.description)
                }
                buffer.writeStaticString("]")
            }
            buffer.writeStaticString("}")
        }
        buffer.writeStaticString(#"],"model":"#)
        buffer.writeJSONString(model)
        buffer.writeStaticString(#","usage":{"prompt_tokens":"#)
        buffer.writeDecimal(promptTokens)
        buffer.writeStaticString(#","total_tokens":"#)
        buffer.writeDecimal(promptTokens)
        buffer.writeStaticString("}}")
    }

    /// The start every chunk of one stream shares: `data: {"id":…,"choices":[`.
    static func chunkPrefix(id: String, created: Int, model: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 128)
        buffer.writeStaticString(#"data: {"id":"#)
        buffer.writeJSONString(id)
        buffer.writeStaticString(#","object":"chat.completion.chunk","created":"#)
        buffer.writeDecimal(created)
        buffer.writeStaticString(#","model":"#)
        buffer.writeJSONString(model)
        buffer.writeStaticString(#","system_fingerprint":"fp_mock","choices":["#)
        return buffer
    }

    /// The chunk carrying token `index`; the first one also carries the role.
    static func writeTokenChunk(_ answer: ChatAnswer, index: Int, prefix: ByteBuffer, into buffer: inout ByteBuffer) {
        buffer.writeImmutableBuffer(prefix)
        buffer.writeStaticString(#"{"index":0,"delta":{"#)
        if index == 0 {
            buffer.writeStaticString(#""role":"assistant","#)
        }
        buffer.writeStaticString(#""content":"#)
        writeContent(answer, tokens: index..<index + 1, into: &buffer)
        buffer.writeStaticString("},\"logprobs\":null,\"finish_reason\":null}]}\n\n")
    }

    /// The chunk with an empty delta and the finish reason.
    static func writeFinishChunk(_ answer: ChatAnswer, prefix: ByteBuffer, into buffer: inout ByteBuffer) {
        buffer.writeImmutableBuffer(prefix)
        buffer.writeStaticString(#"{"index":0,"delta":{},"logprobs":null,"finish_reason":"#)
        buffer.writeJSONString(answer.finishReason)
        buffer.writeStaticString("}]}\n\n")
    }

    /// The chunk with no choices and the usage (`stream_options.include_usage`).
    static func writeUsageChunk(_ answer: ChatAnswer, prefix: ByteBuffer, into buffer: inout ByteBuffer) {
        buffer.writeImmutableBuffer(prefix)
        buffer.writeStaticString(#"],"usage":"#)
        writeUsage(answer, into: &buffer)
        buffer.writeStaticString("}\n\n")
    }

    static func writeDone(into buffer: inout ByteBuffer) {
        buffer.writeStaticString("data: [DONE]\n\n")
    }

    /// `{"error": {"message", "type", "param": null, "code"}}`.
    static func writeError(_ reply: MockErrorReply, into buffer: inout ByteBuffer) {
        buffer.writeStaticString(#"{"error":{"message":"#)
        buffer.writeJSONString(reply.message)
        buffer.writeStaticString(#","type":"#)
        buffer.writeJSONString(reply.type)
        buffer.writeStaticString(#","param":null,"code":"#)
        if let code = reply.code {
            buffer.writeJSONString(code)
        } else {
            buffer.writeStaticString("null")
        }
        buffer.writeStaticString("}}")
    }

    /// The `GET /v1/models` list.
    static func modelsBody(created: Int) -> String {
        let models = ["mock-model", "gpt-3.5-turbo"].map {
            #"{"id":"\#($0)","object":"model","created":\#(created),"owned_by":"promptline"}"#
        }
        return #"{"object":"list","data":[\#(models.joined(separator: ","))]}"#
    }

    /// The `GET /mock/calls` answer for one prompt.
    static func writeCalls(prompt: String, entry: CallLedger.Entry, into buffer: inout ByteBuffer) {
        buffer.writeStaticString(#"{"prompt":"#)
        buffer.writeJSONString(prompt)
        buffer.writeStaticString(#","calls":"#)
        buffer.writeDecimal(entry.count)
        buffer.writeStaticString(#","times":["#)
        for (index, time) in entry.times.enumerated() {
            if index > 0 { buffer.writeStaticString(",") }
            buffer.writeJSONNumber(time)
        }
        buffer.writeStaticString("]}")
    }

    /// The `GET /mock/stats` answer.
    static func writeStats(_ ledger: CallLedger.Summary, into buffer: inout ByteBuffer) {
        buffer.writeStaticString(#"{"total_calls":"#)
        buffer.writeDecimal(ledger.totalCalls)
        buffer.writeStaticString(#","by_status":{"#)
        for (index, (status, count)) in ledger.statuses.sorted(by: { $0.key < $1.key }).enumerated() {
            if index > 0 { buffer.writeStaticString(",") }
            buffer.writeStaticString("\"")
            buffer.writeDecimal(status)
            buffer.writeStaticString("\":")
            buffer.writeDecimal(count)
        }
        buffer.writeStaticString(#"},"distinct_prompts":"#)
        buffer.writeDecimal(ledger.distinctPrompts)
        buffer.writeStaticString(#","resets":"#)
        buffer.writeDecimal(ledger.resets)
        buffer.writeStaticString(#","cuts":"#)
        buffer.writeDecimal(ledger.cuts)
        buffer.writeStaticString(#","stalls":"#)
        buffer.writeDecimal(ledger.stalls)
        buffer.writeStaticString(#","max_in_flight_by_user":{"#)
        for (index, (user, count)) in ledger.maxInFlightByUser.sorted(by: { $0.key < $1.key }).enumerated() {
            if index > 0 { buffer.writeStaticString(",") }
            buffer.writeJSONString(user)
            buffer.writeStaticString(":")
            buffer.writeDecimal(count)
        }
        buffer.writeStaticString("}}")
    }

    private static func writeUsage(_ answer: ChatAnswer, into buffer: inout ByteBuffer) {
        buffer.writeStaticString(#"{"prompt_tokens":"#)
        buffer.writeDecimal(answer.promptTokens)
        buffer.writeStaticString(#","completion_tokens":"#)
        buffer.writeDecimal(answer.completionTokens)
        buffer.writeStaticString(#","total_tokens":"#)
        buffer.writeDecimal(answer.promptTokens + answer.completionTokens)
        buffer.writeStaticString("}")
    }

    private static func writeContent(_ answer: ChatAnswer, tokens: Range<Int>, into buffer: inout ByteBuffer) {
        let start = tokens.isEmpty ? 0 : answer.tokens[tokens.lowerBound].lowerBound
        let end = tokens.isEmpty ? 0 : answer.tokens[tokens.upperBound - 1].upperBound
        answer.bytes.withUnsafeBufferPointer {
            buffer.writeJSONString(utf8: UnsafeBufferPointer(rebasing: $0[start..<end]))
        }
    }
}
