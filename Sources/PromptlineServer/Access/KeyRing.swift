import Foundation
import PromptlineCore

/// The API keys in a store: made, listed, revoked and looked up by secret. Every instance
/// that shares the store shares the keys.
package struct KeyRing: Sendable {
    /// The collection that holds them, one document per key, named by the key's id.
    static let collection = "api-keys"
    /// Keys do not expire; a document store wants a lifetime, so they get a century.
    static let lifetime = Duration.seconds(100 * 365 * 86_400)

    let documents: any DocumentStore

    package init(documents: any DocumentStore) {
        self.documents = documents
    }

    /// A key that could not be made, or found.
    package struct Problem: Error, CustomStringConvertible {
        package var description: String
    }

    /// Makes a key. Answers its record and the secret, which exists nowhere else afterwards.
    package func create(name: String, limits: APIKey.Limits, admin: Bool = false) async throws -> (key: APIKey, secret: String) {
        let name = name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.count <= 100 else { throw Problem(description: "a key's name must be 1 to 100 characters") }
        for (label, value) in [("rpm", limits.requestsPerMinute), ("tpm", limits.tokensPerMinute), ("max-in-flight", limits.maxInFlight)] {
            if let value, value < 1 { throw Problem(description: "--\(label) must be at least 1 (leave it out for no limit)") }
        }
        if try await list().contains(where: { $0.name == name }) {
            throw Problem(description: "a key named '\(name)' exists already; revoke it first or pick another name")
        }
        // Ids are 48 bits of the hash: should two secrets ever share one, draw again.
        for _ in 0..<5 {
            let secret = APIKey.makeSecret()
            let hash = APIKey.hash(ofSecret: secret)
            let key = APIKey(
                id: APIKey.id(forHash: hash), name: name, limits: limits, createdAt: Date(), secretHash: hash.hexString, admin: admin
            )
            if try await documents.insertDocument(collection: Self.collection, id: key.id, body: try JSONBody.encoder.encode(key), ttl: Self.lifetime) {
                return (key, secret)
            }
        }
        throw Problem(description: "could not draw a key with a fresh id; try again")
    }

    /// Every key, newest first.
    package func list() async throws -> [APIKey] {
        var keys: [APIKey] = []
        var after: String?
        while true {
            let page = try await documents.documents(collection: Self.collection, after: after, limit: 500)
            keys += try page.map { try JSONDecoder().decode(APIKey.self, from: $0.body) }
            guard page.count == 500, let last = page.last else { return keys }
            after = last.id
        }
    }

    /// Revokes the key with this id or name; answers the key revoked.
    package func revoke(_ idOrName: String) async throws -> APIKey {
        guard let key = try await list().first(where: { $0.id == idOrName || $0.name == idOrName }) else {
            throw Problem(description: "no key has the id or name '\(idOrName)' (see `promptline keys list`)")
        }
        _ = try await documents.deleteDocument(collection: Self.collection, id: key.id)
        return key
    }

    /// Whether the store holds any key at all.
    package func isEmpty() async throws -> Bool {
        try await documents.documents(collection: Self.collection, after: nil, limit: 1).isEmpty
    }

    /// The key whose secret this is, or `nil`.
    func key(forSecret secret: String) async throws -> APIKey? {
        let hash = APIKey.hash(ofSecret: secret)
        guard let document = try await documents.document(collection: Self.collection, id: APIKey.id(forHash: hash)) else {
            return nil
        }
        let key = try JSONDecoder().decode(APIKey.self, from: document.body)
        return key.matches(secretHash: hash) ? key : nil
    }
}
