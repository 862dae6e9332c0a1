import Crypto
import Foundation

/// An API key as the store keeps it: a package id, a name, its limits and the SHA-256 of the
/// secret. The secret itself is shown once, when the key is made, and kept nowhere.
package struct APIKey: Codable, Sendable, Hashable {
    /// Per-key limits; `nil` means no limit.
    package struct Limits: Codable, Sendable, Hashable {
        /// Requests per minute to `/api` and `/v1` routes.
        package var requestsPerMinute: Int?
        /// Tokens per minute, estimated when work is admitted (see ``TokenEstimate``).
        package var tokensPerMinute: Int?
        /// Tasks submitted by the key that have not finished yet.
        package var maxInFlight: Int?

        package init(requestsPerMinute: Int? = nil, tokensPerMinute: Int? = nil, maxInFlight: Int? = nil) {
            self.requestsPerMinute = requestsPerMinute
            self.tokensPerMinute = tokensPerMinute
            self.maxInFlight = maxInFlight
        }

        enum CodingKeys: String, CodingKey {
            case requestsPerMinute = "rpm"
            case tokensPerMinute = "tpm"
            case maxInFlight = "max_in_flight"
        }
    }

    /// `key_` and the first 12 hex digits of the secret's hash: what lists, logs and task
    /// owners name the key by, and where the store finds it.
    package var id: String
    package var name: String
    package var limits: Limits
    package var createdAt: Date
    /// Hex SHA-256 of the secret.
    var secretHash: String
    /// An admin key may see the whole server (`/api/stats`, `/api/cluster`, `/api/cache`,
    /// `/metrics` when it is guarded); other keys see their own work only.
    package var admin = false

    enum CodingKeys: String, CodingKey {
        case id, name, limits, admin
        case createdAt = "created_at"
        case secretHash = "sha256"
    }

    /// A new secret: `pl_` and 48 random hex digits (192 bits).
    static func makeSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<24).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return "pl_" + bytes.hexString
    }

    static func hash(ofSecret secret: String) -> [UInt8] {
        Array(SHA256.hash(data: Data(secret.utf8)))
    }

    static func id(forHash hash: [UInt8]) -> String {
        "key_" + hash.prefix(6).hexString
    }

    /// Whether `secret` is this key's, comparing the hashes in time that does not depend on
    /// where they differ.
    func matches(secretHash candidate: [UInt8]) -> Bool {
        let stored = Array(secretHash.utf8)
        let given = Array(candidate.hexString.utf8)
        guard stored.count == given.count else { return false }
        var difference: UInt8 = 0
        for index in stored.indices { difference |= stored[index] ^ given[index] }
        return difference == 0
    }
}

extension APIKey {
    /// Keys stored before admin keys existed read as plain keys.
    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        name = try container.decode(String.self, forKey: .name)
        limits = try container.decode(Limits.self, forKey: .limits)
        createdAt = try container.decode(Date.self, forKey: .createdAt)
        secretHash = try container.decode(String.self, forKey: .secretHash)
        admin = try container.decodeIfPresent(Bool.self, forKey: .admin) ?? false
    }
}
