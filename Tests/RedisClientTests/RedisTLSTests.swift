import Foundation
import RedisClient
import Testing

/// TLS against a real `redis-server` with a certificate from a private authority made for
/// the test (openssl).
@Suite(.timeLimit(.minutes(1))) struct RedisTLSTests {
    @Test func tlsWithAPrivateAuthority() async throws {
        let certificates = try TestCertificates.make()
        defer { try? FileManager.default.removeItem(at: certificates.directory) }
        let tlsPort = try freeLoopbackPort()
        let server = try await RedisTestServer.start(arguments: [
            "--tls-port", String(tlsPort),
            "--tls-cert-file", certificates.serverCertificate,
            "--tls-key-file", certificates.serverKey,
            "--tls-ca-cert-file", certificates.authority,
            "--tls-auth-clients", "no",
        ])
        do {
            try await exercise(tlsPort: tlsPort, certificates: certificates)
            await server.stop()
        } catch {
            await server.stop()
            throw error
        }
    }

    private func exercise(tlsPort: Int, certificates: TestCertificates) async throws {
        // Trusting the private authority: the handshake and commands go through TLS.
        let trusted = try RedisConfiguration(url: "rediss://127.0.0.1:\(tlsPort)/2?tls_ca_file=\(certificates.authority)")
        #expect(trusted.tls)
        #expect(trusted.tlsCAFile == certificates.authority)
        let connection = try await RedisConnection.connect(trusted)
        #expect(connection.protocolVersion == 3)
        #expect(try await connection.send(PING()) == "PONG")
        let key = "tls-\(UUID().uuidString)"
        _ = try await connection.send(SET(key, "over tls"))
        #expect(try await connection.send(GET(key)).map { String(buffer: $0) } == "over tls")
        _ = try await connection.send(DEL(key))
        await connection.close()

        // Without it, the server's certificate is not trusted and the connection is refused.
        var untrusted = trusted
        untrusted.tlsCAFile = nil
        untrusted.connectTimeout = .seconds(5)
        await #expect(throws: RedisClientError.self) { _ = try await RedisConnection.connect(untrusted) }

        // And plain RESP to the TLS port gets no answer the client accepts.
        var plain = trusted
        plain.tls = false
        plain.connectTimeout = .seconds(2)
        plain.commandTimeout = .seconds(2)
        await #expect(throws: RedisClientError.self) { _ = try await RedisConnection.connect(plain) }
    }
}

/// A certificate authority and a server certificate for 127.0.0.1 and localhost.
struct TestCertificates {
    let directory: URL
    var authority: String { directory.appendingPathComponent("ca.crt").path }
    var serverCertificate: String { directory.appendingPathComponent("server.crt").path }
    var serverKey: String { directory.appendingPathComponent("server.key").path }

    static func make() throws -> TestCertificates {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("redis-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\n".write(
            to: directory.appendingPathComponent("san.ext"), atomically: true, encoding: .utf8)
        for command in [
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=Promptline Test CA"],
            ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"],
            ["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.crt", "-days", "2", "-extfile", "san.ext"],
        ] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments = command
            process.currentDirectoryURL = directory
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw RedisTestServerError(description: "openssl \(command[0]) failed (is openssl installed?)")
            }
        }
        return TestCertificates(directory: directory)
    }
}
