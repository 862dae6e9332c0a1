@testable import PromptlineServer
import Testing

@Suite struct ServerSettingsTests {
    @Test func defaultsMatchTheSpecification() throws {
        let settings = try ServerSettings.resolve(flags: [:], environment: [:]).get()
        #expect(settings.host == "127.0.0.1" && settings.port == 8000)
        #expect(settings.upstreamURL == "https://api.openai.com/v1")
        #expect(settings.model == "gpt-3.5-turbo" && settings.maxTokens == 100 && settings.temperature == 0.7)
        #expect(settings.workers >= 4)
        #expect(settings.upstreamTimeout == 30 && settings.maxAttempts == 5 && settings.lease == 60)
        #expect(settings.statusTTL == 86_400 && settings.resultTTL == 604_800 && settings.shutdownGrace == 30)
        #expect(settings.upstreamAPIKey == nil && settings.redisURL == nil)
    }

    @Test func flagsWinOverTheEnvironment() throws {
        let settings = try ServerSettings.resolve(
            flags: [.port: "9000", .model: "from-flag"],
            environment: ["PROMPTLINE_PORT": "7000", "PROMPTLINE_MODEL": "from-env", "NUM_WORKERS": "12", "OPENAI_API_KEY": "sk-test"]
        ).get()
        #expect(settings.port == 9000)
        #expect(settings.model == "from-flag")
        #expect(settings.workers == 12)
        #expect(settings.upstreamAPIKey == "sk-test")
    }

    @Test func theVectorURLsPasswordIsNeverShown() throws {
        let settings = try ServerSettings.resolve(
            flags: [.vectorURL: "postgres://promptline:s3cret-pw@127.0.0.1:5432/knowledge"], environment: [:]
        ).get()
        #expect(settings.vectorURL == "postgres://promptline:s3cret-pw@127.0.0.1:5432/knowledge")
        #expect(!"\(settings)".contains("s3cret-pw"))
        #expect("\(settings)".contains("vector-url=postgres://promptline:***@127.0.0.1:5432/knowledge"))
        let refused = ServerSettings.resolve(flags: [.vectorURL: "mysql://x"], environment: [:])
        #expect(throws: SettingsError.self) { try refused.get() }
    }

    @Test func webhookAllowHostsIsReadOnceAndABadEntryIsRefused() throws {
        #expect(try ServerSettings.resolve(flags: [:], environment: [:]).get().webhookAllowHosts.isEmpty)
        let settings = try ServerSettings.resolve(
            flags: [:], environment: ["PROMPTLINE_WEBHOOK_ALLOW_HOSTS": "hooks.internal, 10.0.0.0/8"]
        ).get()
        #expect(settings.webhookAllowHosts.allows(host: "hooks.internal"))
        #expect(settings.webhookAllowHosts.refusal(of: try #require(IPAddress("10.1.1.1"))) == nil)
        #expect("\(settings)".contains("webhook-allow-hosts=hooks.internal,10.0.0.0/8"))
        let refused = ServerSettings.resolve(flags: [.webhookAllowHosts: "10.0.0.0/99"], environment: [:])
        #expect(throws: SettingsError.self) { try refused.get() }
    }

    @Test func theEnvironmentWinsOverDotEnv() {
        let merged = DotEnv.merged(environment: ["PROMPTLINE_PORT": "7000"], dotenv: ["PROMPTLINE_PORT": "6000", "PROMPTLINE_MODEL": "m"])
        #expect(merged["PROMPTLINE_PORT"] == "7000")
        #expect(merged["PROMPTLINE_MODEL"] == "m")
    }

    @Test func everyProblemIsReportedOnItsOwnLine() throws {
        let result = ServerSettings.resolve(
            flags: [.port: "eighty", .workers: "-1"],
            environment: ["PROMPTLINE_UPSTREAM_TIMEOUT": "0", "OPENAI_BASE_URL": "ftp://example", "PROMPTLINE_LOG_LEVEL": "loud"]
        )
        guard case .failure(let error) = result else {
            Issue.record("bad settings were accepted")
            return
        }
        #expect(error.problems.count == 5)
        #expect(error.problems.contains { $0.hasPrefix("--port: 'eighty' is not a whole number") })
        #expect(error.problems.contains { $0.hasPrefix("--workers: -1 is out of range") })
        #expect(error.problems.contains { $0.hasPrefix("PROMPTLINE_UPSTREAM_TIMEOUT:") })
        #expect(error.problems.contains { $0.contains("ftp://example") })
        #expect(error.problems.contains { $0.hasPrefix("PROMPTLINE_LOG_LEVEL: 'loud'") })
    }

    @Test func redisPartsMakeAURL() throws {
        #expect(ServerSettings.redisURL(host: "cache", port: nil, db: "2", password: "p@ss") == "redis://:p%40ss@cache:6379/2")
    }

    @Test func dotEnvParsesQuotesCommentsAndExport() {
        let parsed = DotEnv.parse("""
            # a comment
            export OPENAI_API_KEY="sk-abc def"
            PROMPTLINE_PORT=9001 # trailing
            NUM_WORKERS='8'
            not a line
            """)
        #expect(parsed == ["OPENAI_API_KEY": "sk-abc def", "PROMPTLINE_PORT": "9001", "NUM_WORKERS": "8"])
    }

    @Test func anAPIKeyNeverAppearsInProblems() {
        let result = ServerSettings.resolve(flags: [.upstreamAPIKey: "sk-secret-123", .port: "x"], environment: [:])
        guard case .failure(let error) = result else {
            Issue.record("bad settings were accepted")
            return
        }
        #expect(!error.description.contains("sk-secret-123"))
    }
}
