import Foundation
@testable import PromptlineServer
import Testing

@Suite struct WebhookSignatureTests {
    /// Computed apart, with Python's `hmac.new(b"whsec_test", b"1700000000." + body, hashlib.sha256)`.
    @Test func signsTheTimestampAFullStopAndTheBody() {
        let signature = WebhookSignature(secret: "whsec_test")
        let body = Data(#"{"batch_id":"abc"}"#.utf8)
        #expect(signature.signature(timestamp: 1_700_000_000, body: body)
            == "sha256=34b48b52d53bba23f5071a76a7874be9ae835d580c111ae26f72c1da1d4ca862")
    }

    @Test func anotherSecretTimestampOrBodyGivesAnotherSignature() {
        let body = Data(#"{"batch_id":"abc"}"#.utf8)
        let reference = WebhookSignature(secret: "whsec_test").signature(timestamp: 1_700_000_000, body: body)
        #expect(WebhookSignature(secret: "whsec_other").signature(timestamp: 1_700_000_000, body: body) != reference)
        #expect(WebhookSignature(secret: "whsec_test").signature(timestamp: 1_700_000_001, body: body) != reference)
        #expect(WebhookSignature(secret: "whsec_test").signature(timestamp: 1_700_000_000, body: Data(#"{"batch_id":"abd"}"#.utf8)) != reference)
    }

    /// Computed apart: the first 32 hex digits of Python's `hashlib.sha256(b"a,b,c")`.
    @Test func aBatchIDIsDerivedFromItsTaskIDsInOrder() {
        #expect(Submissions.batchID(of: ["a", "b", "c"]) == "205830ca5b23bbe39ab510cfddc1dff2")
        #expect(Submissions.batchID(of: ["c", "b", "a"]) != Submissions.batchID(of: ["a", "b", "c"]))
    }

    @Test func theWebhookSettingsComeFromFlagsAndTheEnvironment() throws {
        let settings = try ServerSettings.resolve(
            flags: [.webhookMaxAttempts: "3"],
            environment: ["PROMPTLINE_WEBHOOK_SECRET": "from-env", "PROMPTLINE_WEBHOOK_RETRY_DELAY": "0.25", "PROMPTLINE_WEBHOOK_TIMEOUT": "2"]
        ).get()
        #expect(settings.webhookSecret == "from-env" && settings.webhookMaxAttempts == 3)
        #expect(settings.webhookRetryDelay == 0.25 && settings.webhookTimeout == 2)
        #expect(try ServerSettings.resolve(flags: [.webhookSecret: ""], environment: [:]).get().webhookSecret == nil)
        let defaults = ServerSettings()
        #expect(defaults.webhookSecret == nil && defaults.webhookMaxAttempts == 12 && defaults.webhookRetryDelay == 1 && defaults.webhookTimeout == 10)
        guard case .failure(let error) = ServerSettings.resolve(flags: [.webhookMaxAttempts: "0"], environment: [:]) else {
            Issue.record("0 attempts was accepted")
            return
        }
        #expect(error.problems == ["--webhook-max-attempts: 0 is out of range (1 to 100)"])
    }

    @Test func retriesWaitTwiceAsLongEachTimeUpToTheCeiling() {
        var configuration = WebhookDispatcher.Configuration()
        configuration.retryDelay = .seconds(1)
        configuration.maxRetryDelay = .seconds(10)
        let delays = (1...6).map { configuration.delay(afterAttempt: $0) }
        #expect(delays == [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(10), .seconds(10)])
    }
}
