import Foundation
import Testing

@testable import PromptlineServer

@Suite struct APIKeyTests {
    @Test func aSecretMatchesOnlyItsOwnHash() {
        let secret = APIKey.makeSecret()
        #expect(secret.hasPrefix("pl_") && secret.count == 51)
        #expect(APIKey.makeSecret() != secret)
        let hash = APIKey.hash(ofSecret: secret)
        let key = APIKey(id: APIKey.id(forHash: hash), name: "k", limits: .init(), createdAt: Date(), secretHash: hash.hexString)
        #expect(key.matches(secretHash: hash))
        #expect(!key.matches(secretHash: APIKey.hash(ofSecret: secret + "x")))
        #expect(key.id.hasPrefix("key_") && key.id.count == 16)
        #expect(!key.secretHash.contains(secret.dropFirst(3)))
    }

    @Test func theHashIsSHA256() {
        // SHA-256("abc"), from FIPS 180-2.
        #expect(APIKey.hash(ofSecret: "abc").hexString == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func theStoredRecordHoldsNoSecret() throws {
        let secret = APIKey.makeSecret()
        let hash = APIKey.hash(ofSecret: secret)
        let key = APIKey(id: APIKey.id(forHash: hash), name: "k", limits: .init(requestsPerMinute: 5), createdAt: Date(), secretHash: hash.hexString)
        let stored = String(decoding: try JSONBody.encoder.encode(key), as: UTF8.self)
        #expect(!stored.contains(secret.dropFirst(3)))
        #expect(try JSONDecoder().decode(APIKey.self, from: Data(stored.utf8)) == key)
    }
}
