@testable import PromptlineServer
import Testing

@Suite struct WebhookAddressPolicyTests {
    typealias Refusal = WebhookAddressPolicy.Refusal

    /// An address in every block of the table, and the class it is refused as.
    static let inside: [(String, Refusal)] = [
        ("0.0.0.0", .unspecified), ("0.1.2.3", .reserved),
        ("10.0.0.1", .privateNetwork), ("10.255.255.255", .privateNetwork),
        ("100.64.0.1", .reserved), ("100.127.255.254", .reserved),
        ("127.0.0.1", .loopback), ("127.255.0.9", .loopback),
        ("169.254.169.254", .metadata), ("169.254.0.1", .linkLocal), ("169.254.255.255", .linkLocal),
        ("172.16.0.1", .privateNetwork), ("172.31.255.255", .privateNetwork),
        ("192.0.0.8", .reserved), ("192.0.2.1", .reserved), ("192.88.99.1", .reserved),
        ("192.168.0.1", .privateNetwork), ("192.168.255.255", .privateNetwork),
        ("198.18.0.1", .reserved), ("198.19.255.255", .reserved), ("198.51.100.7", .reserved), ("203.0.113.9", .reserved),
        ("224.0.0.1", .multicast), ("239.255.255.250", .multicast),
        ("240.0.0.1", .reserved), ("255.255.255.254", .reserved), ("255.255.255.255", .broadcast),
        ("::", .unspecified), ("::1", .loopback), ("::2", .reserved), ("::127.0.0.1", .reserved),
        ("100::1", .reserved), ("64:ff9b:1::1", .reserved), ("2001::1", .reserved), ("2001:db8::1", .reserved),
        ("fd00:ec2::254", .metadata), ("fc00::1", .privateNetwork), ("fdff:ffff::1", .privateNetwork),
        ("fe80::1", .linkLocal), ("febf::1", .linkLocal), ("fec0::1", .privateNetwork),
        ("ff02::1", .multicast), ("ff0e::1", .multicast),
        // IPv4-mapped and NAT64 addresses are judged as the IPv4 address they carry.
        ("::ffff:127.0.0.1", .loopback), ("::ffff:10.1.2.3", .privateNetwork),
        ("::ffff:169.254.169.254", .metadata), ("::ffff:0.0.0.0", .unspecified), ("64:ff9b::c0a8:1", .privateNetwork),
    ]

    static let outside = [
        "1.1.1.1", "8.8.8.8", "9.255.255.255", "11.0.0.1", "100.63.255.255", "100.128.0.0", "126.255.255.255",
        "128.0.0.1", "169.253.255.255", "169.255.0.0", "172.15.255.255", "172.32.0.0", "192.0.1.1", "192.167.255.255",
        "192.169.0.0", "198.17.255.255", "198.20.0.0", "223.255.255.255",
        "2606:4700:4700::1111", "2001:4860:4860::8888", "2a00:1450::1", "::ffff:8.8.8.8", "64:ff9b::808:808",
    ]

    @Test(arguments: inside) func anAddressInsideIsRefusedAsItsClass(_ text: String, _ refusal: Refusal) throws {
        let address = try #require(IPAddress(text))
        #expect(WebhookAddressPolicy.classify(address) == refusal)
        #expect(WebhookAddressPolicy().refusal(of: address) == refusal)
    }

    @Test(arguments: outside) func aPublicAddressIsAllowed(_ text: String) throws {
        #expect(WebhookAddressPolicy().refusal(of: try #require(IPAddress(text))) == nil)
    }

    @Test func allowedAddressesAndBlocksPassAndTheRestStaysRefused() throws {
        let policy = try WebhookAddressPolicy(allowing: " 127.0.0.1 , 10.9.0.0/16,[fd00::1], fe80::/10 ,")
        for allowed in ["127.0.0.1", "::ffff:127.0.0.1", "10.9.200.1", "fd00::1", "fe80::abcd"] {
            #expect(policy.refusal(of: try #require(IPAddress(allowed))) == nil, "\(allowed)")
        }
        for refused in ["127.0.0.2", "::1", "10.8.0.1", "fd00::2", "169.254.169.254"] {
            #expect(policy.refusal(of: try #require(IPAddress(refused))) != nil, "\(refused)")
        }
        #expect(policy.description == "127.0.0.1,10.9.0.0/16,fd00::1,fe80::/10")
    }

    @Test func anAllowedHostNameMatchesWhateverItsCaseAndTrailingDot() throws {
        let policy = try WebhookAddressPolicy(allowing: "Hooks.Internal,localhost.")
        #expect(policy.allows(host: "hooks.internal"))
        #expect(policy.allows(host: "HOOKS.internal."))
        #expect(policy.allows(host: "localhost"))
        #expect(!policy.allows(host: "evil.hooks.internal"))
        #expect(!policy.allows(host: "127.0.0.1"))
        #expect(WebhookAddressPolicy().isEmpty && !policy.isEmpty)
    }

    @Test(arguments: ["10.0.0.0/33", "::/129", "10.0.0.0/x", "not a host", "a..b", "http://x", "1.2.3.4/"])
    func aBadEntryIsRefused(_ entry: String) {
        #expect(throws: SettingProblem.self) { try WebhookAddressPolicy(allowing: entry) }
    }

    @Test func addressesReadAndWriteBack() throws {
        for text in ["10.0.0.1", "::1", "fe80::1", "::ffff:127.0.0.1", "2001:db8::8:800:200c:417a"] {
            #expect(try #require(IPAddress(text)).description == text)
        }
        // Only the exact forms: a shorthand IPv4 is a name, resolved (and checked) as one.
        for text in ["127.1", "2130706433", "0x7f.1", "[::1]", "1.2.3.4.5", ""] { #expect(IPAddress(text) == nil, "\(text)") }
        #expect(IPAddress("::ffff:10.0.0.1")?.embeddedIPv4 == IPAddress("10.0.0.1"))
        #expect(IPAddress("2001:db8::1")?.embeddedIPv4 == nil)
    }

    @Test func rangesContainTheirAddressesOnly() throws {
        let block = try #require(IPAddressRange("172.16.0.0/12"))
        #expect(block.contains(try #require(IPAddress("172.31.1.1"))))
        #expect(!block.contains(try #require(IPAddress("172.32.0.0"))))
        #expect(!block.contains(try #require(IPAddress("::ffff:172.16.0.1"))), "an IPv6 address is never in an IPv4 block")
        #expect(try #require(IPAddressRange("0.0.0.0/0")).contains(try #require(IPAddress("8.8.8.8"))))
    }
}
