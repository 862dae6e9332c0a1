import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import PromptlineCore
import Testing

@testable import OpenAIUpstream

/// The upstream pool over TLS, against a loopback HTTPS server with a certificate of its own.
@Suite struct UpstreamTLSTests {
    /// A self-signed certificate for `localhost` (P-256, valid until 2126), for these tests only.
    static let certificate = """
        -----BEGIN CERTIFICATE-----
        MIIBlTCCATugAwIBAgIUENtHoGj98vPjr8dplDijWmkOpqEwCgYIKoZIzj0EAwIw
        FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyNDA3MjEyNloYDzIxMjYxMDMx
        MDcyMTI2WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
        PQMBBwNCAASvpB9IUA2WY6ZqDqPbvEhI2BW7fWIOmvVqmg9t0Uj9ylCAAnZoNk7M
        5rI18icQJpKNBpUtrbnTMFO6vzr2U7Obo2kwZzAdBgNVHQ4EFgQU4KGh0h2iyMjQ
        KPO3KGYSTNeC/OcwHwYDVR0jBBgwFoAU4KGh0h2iyMjQKPO3KGYSTNeC/OcwDwYD
        VR0TAQH/BAUwAwEB/zAUBgNVHREEDTALgglsb2NhbGhvc3QwCgYIKoZIzj0EAwID
        SAAwRQIgdJHkeA5WJMHVqGfGjJSRtZ/OdFNNNlfbEc/h9BF7ubcCIQCEEKRdkCrg
        tTieRb6R0T5o27h+2v2SrDUJAz4ieyOcMA==
        -----END CERTIFICATE-----
        """
    static let privateKey = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgLkb+bMIWaUGa8okG
        +6iKQ4Tp5ZzaGogK0VV3v8Xtr/ShRANCAASvpB9IUA2WY6ZqDqPbvEhI2BW7fWIO
        mvVqmg9t0Uj9ylCAAnZoNk7M5rI18icQJpKNBpUtrbnTMFO6vzr2U7Ob
        -----END PRIVATE KEY-----
        """

    /// Answers every request with `{"path": "<its path>"}`.
    final class EchoPath: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        private var path = ""

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head): path = head.uri
            case .body: break
            case .end:
                let body = ByteBuffer(string: #"{"path":"\#(path)"}"#)
                let headers: HTTPHeaders = ["content-type": "application/json", "content-length": String(body.readableBytes)]
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }

    static func withServer(_ body: (Int, NIOSSLCertificate) async throws -> Void) async throws {
        let certificate = try NIOSSLCertificate(bytes: Array(Self.certificate.utf8), format: .pem)
        let key = try NIOSSLPrivateKey(bytes: Array(Self.privateKey.utf8), format: .pem)
        let context = try NIOSSLContext(configuration: .makeServerConfiguration(
            certificateChain: [.certificate(certificate)], privateKey: .privateKey(key)))
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(EchoPath())
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        do {
            try await body(try #require(server.localAddress?.port), certificate)
        } catch {
            try? await server.close()
            throw error
        }
        try await server.close()
    }

    static func get(_ path: String, from pool: UpstreamConnectionPool) async throws -> String {
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: ["host": pool.configuration.origin.hostHeader])
        let response = try await pool.send(head, body: nil, deadline: .now() + .seconds(10), stallTimeout: .seconds(10), wholeUpTo: nil)
        #expect(response.head.status == .ok)
        return String(buffer: try await response.body.collect(upTo: 1 << 16))
    }

    @Test func callsGoOverTLSToATrustedServerOnOneConnection() async throws {
        try await Self.withServer { port, certificate in
            var configuration = UpstreamConnectionPool.Configuration(
                origin: try #require(UpstreamOrigin("https://127.0.0.1:\(port)/v1")), maxConnections: 4, connectTimeout: .seconds(10)
            )
            configuration.tls.trustRoots = .certificates([certificate])
            configuration.tls.certificateVerification = .noHostnameVerification  // an address, not the certificate's name
            let pool = try UpstreamConnectionPool(configuration: configuration, group: MultiThreadedEventLoopGroup.singleton)
            #expect(try await Self.get("/v1/models", from: pool) == #"{"path":"/v1/models"}"#)
            #expect(try await Self.get("/v1/chat/completions", from: pool) == #"{"path":"/v1/chat/completions"}"#)
            pool.shutdown()
        }
    }

    @Test func aServerTheSystemDoesNotTrustIsATLSFailure() async throws {
        try await Self.withServer { port, _ in
            let origin = try #require(UpstreamOrigin("https://127.0.0.1:\(port)/v1"))
            let pool = try UpstreamConnectionPool(
                configuration: .init(origin: origin, maxConnections: 1, connectTimeout: .seconds(10)), group: MultiThreadedEventLoopGroup.singleton
            )
            do {
                _ = try await Self.get("/v1/models", from: pool)
                Issue.record("a self-signed certificate was trusted")
            } catch {
                let failure = UpstreamError.transport(error, endpoint: origin.endpoint)
                #expect(failure.code == .connectionFailed)
                #expect(failure.message == "TLS with 127.0.0.1:\(port) failed")
            }
            pool.shutdown()
        }
    }
}
