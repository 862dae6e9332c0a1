import Foundation
@testable import PromptlineServer
import Testing

/// The config file: TOML read with lines, keys checked against the settings table, and its
/// place in the order flags > environment > file > defaults.
@Suite struct ConfigFileTests {
    static func file(_ text: String) throws -> ConfigFile {
        try ConfigFile.parse(text, path: "promptline.toml")
    }

    @Test func theFileSetsAnySetting() throws {
        let file = try Self.file("""
            # a comment
            host = "0.0.0.0"
            port = 8001
            temperature = 1      # an integer where a number is asked
            retry_base_delay = 0.25
            upstream_streaming = false
            log_level = "DEBUG"
            """)
        let settings = try ServerSettings.resolve(flags: [:], environment: [:], file: file).get()
        #expect(settings.host == "0.0.0.0")
        #expect(settings.port == 8001)
        #expect(settings.temperature == 1)
        #expect(settings.retryBaseDelay == 0.25)
        #expect(settings.upstreamStreaming == false)
        #expect(settings.logLevel == .debug)
    }

    @Test func eachSourceWinsWhereItShould() throws {
        let file = try Self.file("""
            port = 7001
            workers = 7
            model = "from-file"
            max_attempts = 9
            """)
        let settings = try ServerSettings.resolve(
            flags: [.port: "9001"],
            environment: ["PROMPTLINE_PORT": "8001", "NUM_WORKERS": "8", "PROMPTLINE_MODEL": "from-env"],
            file: file
        ).get()
        #expect(settings.port == 9001, "a flag wins over the environment and the file")
        #expect(settings.workers == 8, "the environment wins over the file")
        #expect(settings.model == "from-env")
        #expect(settings.maxAttempts == 9, "the file wins over the default")
        #expect(settings.lease == ServerSettings().lease, "the default stands where nothing else speaks")
    }

    @Test func dotEnvRanksWithTheEnvironmentAboveTheFile() throws {
        let environment = DotEnv.merged(environment: [:], dotenv: ["PROMPTLINE_MODEL": "from-dotenv"])
        let settings = try ServerSettings.resolve(flags: [:], environment: environment, file: try Self.file("model = \"from-file\"")).get()
        #expect(settings.model == "from-dotenv")
    }

    @Test func anUnknownKeyIsRefusedWithItsLine() throws {
        let file = try Self.file("""
            port = 8001

            wrokers = 3
            """)
        let result = ServerSettings.resolve(flags: [:], environment: [:], file: file)
        guard case .failure(let error) = result else {
            Issue.record("an unknown key was accepted")
            return
        }
        #expect(error.problems == ["promptline.toml:3: 'wrokers' is not a setting (did you mean 'workers'?)"])
    }

    @Test func aValueOfTheWrongKindIsRefusedWithItsLine() throws {
        let file = try Self.file("""
            port = "8001"
            upstream_streaming = "yes"
            max_tokens = 0
            """)
        guard case .failure(let error) = ServerSettings.resolve(flags: [:], environment: [:], file: file) else {
            Issue.record("values of the wrong kind were accepted")
            return
        }
        #expect(error.problems == [
            "promptline.toml:1: port must be an integer, not a string",
            "promptline.toml:2: upstream_streaming must be a boolean (true or false), not a string",
            "promptline.toml:3: max_tokens: 0 is out of range (1 to 1000000)",
        ])
    }

    @Test func aWrongValueBelowAFlagIsStillAWrongKind() throws {
        // The file is wrong whatever overrides it: a wrong kind or an unknown key is refused.
        let file = try Self.file("port = true")
        let result = ServerSettings.resolve(flags: [.port: "9000"], environment: [:], file: file)
        guard case .failure(let error) = result else {
            Issue.record("a wrong kind was accepted")
            return
        }
        #expect(error.problems == ["promptline.toml:1: port must be an integer, not a boolean"])
    }

    @Test func aSyntaxErrorNamesTheFileAndLine() {
        #expect(throws: SettingsError(problems: ["promptline.toml:2: expected '=', found '8001'"])) {
            try Self.file("host = \"x\"\nport 8001\n")
        }
    }

    @Test func aSecretFromTheFileIsNeverPrinted() throws {
        let settings = try ServerSettings.resolve(
            flags: [:], environment: [:], file: try Self.file("upstream_api_key = \"sk-file-secret\"")
        ).get()
        #expect(settings.upstreamAPIKey == "sk-file-secret")
        #expect(!settings.description.contains("sk-file-secret"))
        #expect(settings.description.contains("upstream-api-key=set"))
        var dumped = ""
        dump(settings, to: &dumped)
        #expect(!dumped.contains("sk-file-secret"))
    }

    @Test func theCommandLineReadsFlagsAndSources() throws {
        let options = try CommandLineSettings(["--port", "9001", "--model=m", "--config", "c.toml", "--redis-prefix", "", "--env-file", "x.env"])
        #expect(options.flags == [.port: "9001", .model: "m", .redisPrefix: ""])
        #expect(options.configPath == "c.toml")
        #expect(options.envFile == "x.env")
        #expect(try CommandLineSettings(["--help"]).wantsHelp)
    }

    @Test func theCommandLineRefusesUnknownFlagsAndMissingValues() {
        #expect(throws: SettingsError(problems: [
            "--wrokers: no such option (did you mean --workers?) (see promptline serve --help)",
            "--port: needs a value",
        ])) {
            try CommandLineSettings(["--wrokers", "3", "--port", "--model", "m"])
        }
    }

    @Test func theCommandLineReadsTheConfigFileFromTheEnvironment() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("promptline-\(UUID()).toml").path
        try Data("port = 8123\nmodel = \"from-file\"\n".utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let settings = try CommandLineSettings(["--model", "from-flag"]).resolve(environment: ["PROMPTLINE_CONFIG": path])
        #expect(settings.port == 8123)
        #expect(settings.model == "from-flag")
        #expect(throws: SettingsError.self) {
            try CommandLineSettings(["--config", path + ".missing"]).resolve(environment: [:])
        }
    }
}
