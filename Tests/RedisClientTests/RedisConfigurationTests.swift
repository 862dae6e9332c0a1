import RedisClient
import Testing

@Suite struct RedisConfigurationTests {
    @Test func defaults() {
        let configuration = RedisConfiguration()
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 6379)
        #expect(configuration.database == 0)
        #expect(configuration.username == nil)
        #expect(configuration.password == nil)
        #expect(!configuration.tls)
        #expect(configuration.connectionCount >= 1)
        #expect(configuration.commandTimeout > .zero)
        #expect(configuration.connectTimeout > .zero)
        #expect(configuration.reconnectBaseDelay <= configuration.reconnectMaxDelay)
    }

    @Test func aBareURLTakesTheDefaults() throws {
        let configuration = try RedisConfiguration(url: "redis://localhost")
        #expect(configuration.host == "localhost")
        #expect(configuration.port == 6379)
        #expect(configuration.database == 0)
        #expect(configuration.username == nil)
        #expect(configuration.password == nil)
        #expect(!configuration.tls)
        // Everything the URL does not say stays as `init` sets it.
        let defaults = RedisConfiguration()
        #expect(configuration.commandTimeout == defaults.commandTimeout)
        #expect(configuration.connectionCount == defaults.connectionCount)
    }

    @Test func everyPart() throws {
        let configuration = try RedisConfiguration(url: "redis://alice:s3cret@redis.example.com:6380/5")
        #expect(configuration.host == "redis.example.com")
        #expect(configuration.port == 6380)
        #expect(configuration.database == 5)
        #expect(configuration.username == "alice")
        #expect(configuration.password == "s3cret")
        #expect(!configuration.tls)
    }

    @Test func aPasswordWithoutAUsername() throws {
        let configuration = try RedisConfiguration(url: "redis://:s3cret@10.0.0.7")
        #expect(configuration.host == "10.0.0.7")
        #expect(configuration.username == nil)
        #expect(configuration.password == "s3cret")
    }

    @Test func percentEncodedCredentialsAreDecoded() throws {
        let configuration = try RedisConfiguration(url: "redis://us%40er:p%40ss%3Aw%2Frd%20%25@host:7000/1")
        #expect(configuration.username == "us@er")
        #expect(configuration.password == "p@ss:w/rd %")
        #expect(configuration.host == "host")
        #expect(configuration.port == 7000)
        #expect(configuration.database == 1)
    }

    @Test func redissMeansTLS() throws {
        let configuration = try RedisConfiguration(url: "rediss://cache.example.com:6390")
        #expect(configuration.tls)
        #expect(configuration.host == "cache.example.com")
        #expect(configuration.port == 6390)
        #expect(try RedisConfiguration(url: "REDISS://h").tls)
        #expect(try !RedisConfiguration(url: "Redis://h").tls)
    }

    @Test(arguments: ["redis://h/", "redis://h", "redis://h/0"])
    func noDatabaseMeansZero(url: String) throws {
        #expect(try RedisConfiguration(url: url).database == 0)
    }

    @Test func databaseNumbers() throws {
        #expect(try RedisConfiguration(url: "redis://h/15").database == 15)
        #expect(try RedisConfiguration(url: "redis://h:1/3").database == 3)
    }

    @Test(arguments: [
        "http://host:6379",
        "https://host",
        "tcp://host:6379",
        "host:6379",
        "localhost",
        "",
        "redis://",
        "redis:///3",
        "redis://:pw@/3",
        "redis://host/abc",
        "redis://host/1.5",
        "redis://host/-1",
        "redis://host/0/1",
        "redis://host:notaport",
        "redis://host:0",
        "redis://host:70000",
    ])
    func badURLsAreRejected(url: String) {
        #expect(throws: RedisURLError.self, "\(url)") { try RedisConfiguration(url: url) }
    }

    @Test func theReasonIsReadable() {
        #expect {
            try RedisConfiguration(url: "http://host")
        } throws: { error in
            "\(error)".contains("redis://")
        }
        #expect {
            try RedisConfiguration(url: "redis://host/abc")
        } throws: { error in
            "\(error)".contains("database")
        }
    }

    @Test(arguments: [
        "http://alice:hunter2secret@host",
        "redis://alice:hunter2secret@host/notanumber",
        "redis://:hunter2secret@/1",
        "redis://:hunter2secret@host:99999",
        "redis://:hunter2secret@host:port",
    ])
    func errorsNeverShowThePassword(url: String) {
        do {
            _ = try RedisConfiguration(url: url)
            Issue.record("\(url) was accepted")
        } catch {
            #expect(!"\(error)".contains("hunter2"))
            #expect(!String(reflecting: error).contains("hunter2"))
        }
    }

    @Test func descriptionMasksThePassword() throws {
        let configuration = try RedisConfiguration(url: "redis://alice:hunter2secret@host:6380/2")
        #expect(configuration.description == "redis://alice:***@host:6380/2")
        #expect(!"\(configuration)".contains("hunter2"))
        let encoded = try RedisConfiguration(url: "rediss://:p%40hunter2@host")
        #expect(!encoded.description.contains("hunter2"))
        #expect(!encoded.description.contains("p%40"))
        #expect(encoded.description == "rediss://:***@host:6379/0")
    }

    @Test func descriptionWithoutPassword() throws {
        #expect(try RedisConfiguration(url: "redis://host").description == "redis://host:6379/0")
        #expect(try RedisConfiguration(url: "redis://alice@host/4").description == "redis://alice@host:6379/4")
        #expect(RedisConfiguration(password: "direct-hunter2").description == "redis://:***@127.0.0.1:6379/0")
    }
}
