import Crypto
import Foundation

/// How a webhook delivery proves it comes from this server: an HMAC-SHA256, keyed with the
/// server's webhook secret, of `"{timestamp}.{body}"` — the timestamp as sent in
/// `X-Promptline-Timestamp` (Unix seconds, decimal), a full stop, then the body's bytes as
/// sent. `X-Promptline-Signature` carries it as `sha256=` and 64 lowercase hex digits.
///
/// A receiver recomputes it over the raw body, compares in constant time, and refuses a
/// timestamp far from its own clock (5 minutes, say) so that a captured delivery cannot be
/// replayed later.
struct WebhookSignature: Sendable {
    static let timestampHeader = "X-Promptline-Timestamp"
    static let signatureHeader = "X-Promptline-Signature"

    private let key: SymmetricKey

    init(secret: String) {
        key = SymmetricKey(data: Data(secret.utf8))
    }

    /// The value of `X-Promptline-Signature` for this body sent at `timestamp`.
    func signature(timestamp: Int, body: Data) -> String {
        var hmac = HMAC<SHA256>(key: key)
        hmac.update(data: Data("\(timestamp).".utf8))
        hmac.update(data: body)
        return "sha256=" + hmac.finalize().hexString
    }
}
