import Foundation
import MockUpstream
import Testing

@Suite("Faults")
struct MockUpstreamFaultTests {
    @Test func statusDirectiveAppliesToTheFirstCallsOnly() async throws {
        try await withMock { server in
            let prompt = "flaky [[mock:status=500,times=2]]"
            let first = try chat(chatBody(prompt), to: server)
            #expect(first.status == 500)
            #expect(first.header("content-type") == "application/json")
            let error = try errorObject(first)
            #expect(error["type"] as? String == "server_error")
            #expect(error["message"] as? String != nil)
            #expect(error["param"] is NSNull)
            #expect(try chat(chatBody(prompt), to: server).status == 500)
            let third = try chat(chatBody(prompt), to: server)
            #expect(third.status == 200)
            #expect(try content(third) == "echo: " + prompt)
            #expect(server.calls(forPrompt: prompt) == 3)
            #expect(server.calls(forPrompt: "flaky") == 0)
        }
    }

    @Test func rateLimitDirectiveSendsRetryAfterHeaders() async throws {
        try await withMock { server in
            let response = try chat(chatBody("slow down [[mock:status=429,retry_after_ms=1500]]"), to: server)
            #expect(response.status == 429)
            #expect(response.header("retry-after-ms") == "1500")
            #expect(response.header("retry-after") == "2")
            let error = try errorObject(response)
            #expect(error["type"] as? String == "rate_limit_exceeded")
            #expect(error["code"] as? String == "rate_limit_exceeded")
        }
    }

    @Test func rateLimitDirectiveWithoutAWaitSendsTheConfiguredOne() async throws {
        try await withMock({ $0.retryAfter = .milliseconds(250) }) { server in
            let response = try chat(chatBody("[[mock:status=429]]"), to: server)
            #expect(response.status == 429)
            #expect(response.header("retry-after-ms") == "250")
            #expect(response.header("retry-after") == "1")
        }
    }

    @Test func insufficientQuotaDirective() async throws {
        try await withMock { server in
            let response = try chat(chatBody("pay up [[mock:status=429,type=insufficient_quota]]"), to: server)
            #expect(response.status == 429)
            let error = try errorObject(response)
            #expect(error["type"] as? String == "insufficient_quota")
            #expect(error["code"] as? String == "insufficient_quota")
            #expect(response.header("retry-after-ms") == nil)
        }
    }

    @Test func resetDirectiveClosesWithoutAnAnswer() async throws {
        try await withMock { server in
            let prompt = "gone [[mock:reset,times=1]]"
            let connection = try RawHTTPConnection(port: server.port)
            try connection.send(RawHTTPConnection.request("POST", "/v1/chat/completions", body: chatBody(prompt)))
            #expect(try connection.readUntilClosed().isEmpty)
            #expect(try chat(chatBody(prompt), to: server).status == 200)
            #expect(server.calls(forPrompt: prompt) == 2)
        }
    }

    @Test func cutDirectiveEndsAStreamBeforeItsFinish() async throws {
        try await withMock { server in
            let connection = try RawHTTPConnection(port: server.port)
            let body = chatBody("a long answer cut short [[mock:cut]]", stream: true, includeUsage: true)
            try connection.send(RawHTTPConnection.request("POST", "/v1/chat/completions", body: body))
            let error = try #require(throws: RawHTTPError.self) { try connection.readResponse() }
            let received = String(decoding: error.received, as: UTF8.self)
            #expect(received.hasPrefix("HTTP/1.1 200"))
            #expect(received.contains(#""content":"echo:""#))
            #expect(received.contains(#""content":" a""#))
            #expect(!received.contains(#""content":" long""#))
            #expect(!received.contains(#""finish_reason":"stop""#))
            #expect(!received.contains("[DONE]"))
        }
    }

    @Test func cutDirectiveSendsHalfAPlainBody() async throws {
        try await withMock { server in
            let connection = try RawHTTPConnection(port: server.port)
            try connection.send(
                RawHTTPConnection.request("POST", "/v1/chat/completions", body: chatBody("half of it [[mock:cut]]"))
            )
            let error = try #require(throws: RawHTTPError.self) { try connection.readResponse() }
            let received = String(decoding: error.received, as: UTF8.self)
            #expect(received.hasPrefix("HTTP/1.1 200"))
            #expect(received.contains("content-length:"))
            #expect(received.contains(#"{"id":"chatcmpl-"#))
            #expect(!received.hasSuffix("}"))
        }
    }

    @Test func latencyDirectiveDelaysTheAnswer() async throws {
        try await withMock { server in
            let start = ContinuousClock.now
            let response = try chat(chatBody("wait [[mock:latency_ms=300]]"), to: server)
            #expect(response.status == 200)
            #expect(ContinuousClock.now - start >= .milliseconds(300))
        }
    }

    @Test func configuredLatencyAndTokenDelayAreHonoured() async throws {
        try await withMock({
            $0.latency = .milliseconds(100)
            $0.tokenDelay = .milliseconds(60)
        }) { server in
            let start = ContinuousClock.now
            // Four tokens: three delays between them and one before the finish chunk.
            let response = try chat(chatBody("one two three", stream: true), to: server)
            #expect(streamedContent(try chunks(response)) == "echo: one two three")
            #expect(ContinuousClock.now - start >= .milliseconds(100 + 4 * 60))
        }
    }

    @Test func stallDirectiveStallsAfterTheFirstChunk() async throws {
        try await withMock { server in
            let start = ContinuousClock.now
            let response = try chat(chatBody("stuck [[mock:stall_ms=400]]", stream: true), to: server)
            #expect(ContinuousClock.now - start >= .milliseconds(400))
            #expect(streamedContent(try chunks(response)) == "echo: stuck [[mock:stall_ms=400]]")
            #expect(response.events.last == "[DONE]")
        }
    }

    @Test func stallLongerThanTheClientWaitsLeavesOnlyTheFirstChunk() async throws {
        try await withMock { server in
            let connection = try RawHTTPConnection(port: server.port, timeoutSeconds: 1)
            try connection.send(
                RawHTTPConnection.request(
                    "POST", "/v1/chat/completions", body: chatBody("stuck [[mock:stall_ms=5000]]", stream: true)
                )
            )
            let error = try #require(throws: RawHTTPError.self) { try connection.readResponse() }
            let received = String(decoding: error.received, as: UTF8.self)
            #expect(received.contains(#""content":"echo:""#))
            #expect(!received.contains(#""content":" stuck""#))
        }
    }

    @Test func everyRequestFailsAtErrorRateOne() async throws {
        try await withMock({ $0.errorRate = 1 }) { server in
            let statuses = try (0..<3).map { _ in try chat(chatBody("x"), to: server).status }
            #expect(statuses == [500, 500, 500])
            // A directive wins over the rates.
            let directed = try chat(chatBody("[[mock:status=418]]"), to: server)
            #expect(directed.status == 418)
        }
    }

    @Test func seededRatesRepeat() async throws {
        func statuses(seed: UInt64) async throws -> [Int] {
            var statuses: [Int] = []
            try await withMock({
                $0.seed = seed
                $0.errorRate = 0.3
                $0.rateLimitRate = 0.3
                $0.retryAfter = .milliseconds(20)
            }) { server in
                for index in 0..<30 {
                    statuses.append(try chat(chatBody("p\(index)"), to: server).status)
                }
            }
            return statuses
        }
        let first = try await statuses(seed: 42)
        #expect(first == (try await statuses(seed: 42)))
        #expect(Set(first) == [200, 429, 500])
    }

    @Test func rateLimitRateSends429WithTheConfiguredWait() async throws {
        try await withMock({
            $0.rateLimitRate = 1
            $0.retryAfter = .milliseconds(2500)
        }) { server in
            let response = try chat(chatBody("x"), to: server)
            #expect(response.status == 429)
            #expect(response.header("retry-after-ms") == "2500")
            #expect(response.header("retry-after") == "3")
        }
    }

    @Test func maxRequestsPerSecondIsATokenBucket() async throws {
        try await withMock({ $0.maxRequestsPerSecond = 3 }) { server in
            let statuses = try (0..<4).map { _ in try chat(chatBody("x"), to: server).status }
            #expect(statuses == [200, 200, 200, 429])
            let limited = try chat(chatBody("x"), to: server)
            #expect(limited.status == 429)
            let wait = try #require(limited.header("retry-after-ms").flatMap { Int($0) })
            #expect((1...334).contains(wait))
            try await Task.sleep(for: .milliseconds(wait + 20))
            #expect(try chat(chatBody("x"), to: server).status == 200)
        }
    }
}

@Suite("Call accounting")
struct MockUpstreamAccountingTests {
    @Test func callsAndStatsReportWhatWasReceived() async throws {
        try await withMock { server in
            let prompt = "count me & [[mock:status=429,times=1]]"
            let before = Date().timeIntervalSince1970
            _ = try chat(chatBody(prompt), to: server)
            _ = try chat(chatBody(prompt), to: server)
            _ = try chat(chatBody("other"), to: server)
            _ = try chat("{", to: server)

            let encoded = prompt.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let calls = try send("GET", "/mock/calls?prompt=\(encoded)", to: server).json()
            #expect(calls["prompt"] as? String == prompt)
            #expect(calls["calls"] as? Int == 2)
            let times = calls["times"] as? [Double] ?? []
            #expect(times.count == 2)
            #expect(times.allSatisfy { $0 >= before - 1 && $0 <= Date().timeIntervalSince1970 + 1 })

            let stats = try send("GET", "/mock/stats", to: server).json()
            #expect(stats["total_calls"] as? Int == 4)
            #expect(stats["by_status"] as? [String: Int] == ["200": 2, "429": 1, "400": 1])
            #expect(stats["distinct_prompts"] as? Int == 2)
            #expect(server.totalCalls == 4)
            #expect(server.calls(forPrompt: "other") == 1)

            let unknown = try send("GET", "/mock/calls?prompt=never", to: server).json()
            #expect(unknown["calls"] as? Int == 0)
            #expect((unknown["times"] as? [Any])?.isEmpty == true)
        }
    }

    @Test func resetClearsTheCounts() async throws {
        try await withMock { server in
            let prompt = "again [[mock:status=500,times=1]]"
            #expect(try chat(chatBody(prompt), to: server).status == 500)
            #expect(try send("POST", "/mock/reset", to: server).status == 200)
            #expect(server.totalCalls == 0)
            #expect(server.calls(forPrompt: prompt) == 0)
            // The directive counts from zero again.
            #expect(try chat(chatBody(prompt), to: server).status == 500)
            server.resetCounts()
            let stats = try send("GET", "/mock/stats", to: server).json()
            #expect(stats["total_calls"] as? Int == 0)
            #expect((stats["by_status"] as? [String: Int])?.isEmpty == true)
        }
    }

    @Test func concurrentCallsAreAllCounted() async throws {
        try await withMock { server in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        let connection = try RawHTTPConnection(port: server.port)
                        for _ in 0..<25 {
                            let body = chatBody("w\(worker % 2)")
                            try connection.send(RawHTTPConnection.request("POST", "/v1/chat/completions", body: body))
                            _ = try connection.readResponse()
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(server.totalCalls == 200)
            #expect(server.calls(forPrompt: "w0") == 100)
            #expect(server.calls(forPrompt: "w1") == 100)
        }
    }
}
