import OpenAIUpstream

/// The upstream client as the server's settings configure it (OpenAIUpstream knows no settings).
extension OpenAIClient.Configuration {
    init(_ settings: ServerSettings) {
        self.init(
            baseURL: settings.upstreamURL,
            apiKey: settings.upstreamAPIKey,
            timeout: .seconds(settings.upstreamTimeout),
            // The timeout bounds the whole call as well as each gap between tokens.
            maximumStreamDuration: .seconds(settings.upstreamTimeout),
            streaming: settings.upstreamStreaming,
            maxConnections: max(settings.workers, 8)
        )
    }
}
