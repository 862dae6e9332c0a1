@testable import PromptlineServer
import Testing

@Suite struct WebhookResolverTests {
    struct NoSuchName: Error, CustomStringConvertible {
        var description: String { "Name or service not known" }
    }

    /// A resolver over a fixed table instead of DNS.
    static func resolver(allowing list: String = "", _ table: [String: [String]] = [:]) throws -> WebhookResolver {
        WebhookResolver(policy: try WebhookAddressPolicy(allowing: list)) { host in
            guard let addresses = table[host] else { throw NoSuchName() }
            return addresses.compactMap(IPAddress.init)
        }
    }

    static func refusal(_ url: String, by resolver: WebhookResolver) async -> WebhookRefusal? {
        do {
            _ = try await resolver.target(for: url)
            return nil
        } catch {
            return error
        }
    }

    @Test func aLiteralInsideIsRefusedNamingItsClassAndTheSetting() async throws {
        let resolver = try Self.resolver()
        let loopback = await Self.refusal("http://127.0.0.1:8080/hook", by: resolver)
        #expect(loopback?.message == "webhook_url: 127.0.0.1 is a loopback address; allow it with --webhook-allow-hosts")
        #expect(loopback?.code == .insideAddress)
        #expect(await Self.refusal("http://[::1]/", by: resolver)?.message.contains("::1 is a loopback address") == true)
        #expect(await Self.refusal("https://169.254.169.254/latest", by: resolver)?.message.contains("the cloud metadata address") == true)
    }

    @Test func aNameIsRefusedWhenAnyOfItsAddressesIsInside() async throws {
        let resolver = try Self.resolver(["rebind.example": ["93.184.216.34", "10.0.0.7"], "good.example": ["93.184.216.34"]])
        let refusal = await Self.refusal("https://rebind.example/hook", by: resolver)
        #expect(refusal?.message == "webhook_url: rebind.example resolves to 10.0.0.7, a private address; allow it with --webhook-allow-hosts")
        let target = try await resolver.target(for: "https://good.example/hook")
        #expect(target.host == "good.example" && target.address == IPAddress("93.184.216.34") && !target.isLiteral)
    }

    @Test func anUnresolvableNameIsRefused() async throws {
        let refusal = await Self.refusal("http://nowhere.invalid/hook", by: try Self.resolver())
        #expect(refusal?.code == .unresolvable)
        #expect(refusal?.message == "webhook_url: nowhere.invalid does not resolve (Name or service not known)")
    }

    @Test func anAllowedNameOrAddressPassesAndIsStillPinned() async throws {
        let resolver = try Self.resolver(allowing: "hooks.internal,127.0.0.1", ["hooks.internal": ["10.1.2.3"], "localhost": ["127.0.0.1"]])
        let named = try await resolver.target(for: "http://hooks.internal:9000/x")
        #expect(named.address == IPAddress("10.1.2.3") && named.host == "hooks.internal")
        #expect(try await resolver.target(for: "http://localhost:9/").address == IPAddress("127.0.0.1"))
        let literal = try await resolver.target(for: "http://127.0.0.1:9/")
        #expect(literal.isLiteral)
        #expect(await Self.refusal("http://127.0.0.2/", by: resolver) != nil)
    }

    @Test func onlyHTTPURLsWithAHostAreTaken() async throws {
        let resolver = try Self.resolver()
        #expect(await Self.refusal("ftp://example.com/", by: resolver)?.code == .notHTTP)
        #expect(await Self.refusal("not a url", by: resolver)?.code == .notHTTP)
        #expect(await Self.refusal("http:///path", by: resolver)?.code == .noHost)
    }

    @Test func theSystemResolverFindsLocalhost() async throws {
        let addresses = try await HostResolver.addresses(of: "localhost")
        #expect(addresses.allSatisfy { WebhookAddressPolicy.classify($0) == .loopback })
        await #expect(throws: HostResolver.Failure.self) { try await HostResolver.addresses(of: "promptline-test.invalid") }
    }
}
