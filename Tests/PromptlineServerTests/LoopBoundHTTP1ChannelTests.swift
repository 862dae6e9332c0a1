import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOPosix
import Testing

@testable import PromptlineServer

/// Where handlers run: on their connection's event loop, except what steps off it.
@Suite struct LoopBoundHTTP1ChannelTests {
    /// Answers where the handler ran: `loop`, `pool` (no event loop), and after `offLoop`.
    static func place() -> String { MultiThreadedEventLoopGroup.currentEventLoop == nil ? "pool" : "loop" }

    static func app() -> some ApplicationProtocol {
        let router = Router()
        router.get("/here") { _, _ in
            let before = Self.place()
            try await Task.sleep(for: .milliseconds(1))
            return "\(before) \(Self.place())"
        }
        router.get("/off") { _, _ in try await offLoop { Self.place() } }
        router.get("/off-route", use: offLoop { (_: Request, _: BasicRequestContext) in Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: Self.place()))) })
        return Application(router: router, server: .loopBoundHTTP1, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    @Test func handlersRunOnTheirConnectionsLoopAndStayThere() async throws {
        try await Self.app().test(.live) { client in
            try await client.execute(uri: "/here", method: .get) { response in
                #expect(String(buffer: response.body) == "loop loop")
            }
        }
    }

    @Test func offLoopRunsOnTheGlobalPool() async throws {
        try await Self.app().test(.live) { client in
            for uri in ["/off", "/off-route"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(String(buffer: response.body) == "pool", "\(uri)")
                }
            }
        }
    }

    /// The same routes on Hummingbird's own HTTP/1.1 channel run on the global pool: the
    /// check above can tell the two apart.
    @Test func withoutItHandlersRunOnTheGlobalPool() async throws {
        let router = Router()
        router.get("/here") { _, _ in MultiThreadedEventLoopGroup.currentEventLoop == nil ? "pool" : "loop" }
        try await Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.live) { client in
            try await client.execute(uri: "/here", method: .get) { response in
                #expect(String(buffer: response.body) == "pool")
            }
        }
    }
}
