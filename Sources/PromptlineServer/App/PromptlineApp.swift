import OpenAIUpstream
import PromptlineCore

/// One Promptline server: ``run(settings:logger:)`` wires the store, the upstream client, the
/// worker pool and the HTTP server as services in one group; ``buildRouter`` gives the routes
/// to the server and to in-process tests.
package enum PromptlineApp {
    /// What the server shares with the workers about the upstream.
    package struct Upstream: Sendable {
        package var client: OpenAIClient
        /// The upstream's "wait before calling again", honoured by workers and chat calls alike.
        package var gate: RateLimitGate<ContinuousClock>
        package var cache: ResponseCache

        package init(client: OpenAIClient, gate: RateLimitGate<ContinuousClock>, cache: ResponseCache) {
            self.client = client
            self.gate = gate
            self.cache = cache
        }
    }
}
