import RedisClient

/// Settings as they may be printed or logged: the upstream API key shows only as `set`, a
/// Redis password as `***`. Only the settings listed here are shown, so that a secret
/// added later does not show by default.
extension ServerSettings: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        let fields = customMirror.children.map { "\($0.label ?? "?"): \($0.value)" }
        return "ServerSettings(\(fields.joined(separator: ", ")))"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        let redis: String = redisURL.map { url in (try? RedisConfiguration(url: url)).map(String.init(describing:)) ?? "(unreadable)" } ?? "none"
        return Mirror(
            self,
            children: [
                "host": host, "port": port, "upstreamURL": upstreamURL, "upstreamAPIKey": upstreamAPIKey == nil ? "none" : "set",
                "model": model, "maxTokens": maxTokens, "temperature": temperature, "workers": workers, "dataDir": dataDir,
                "redisURL": redis, "redisPrefix": redisPrefix, "instanceID": instanceID, "heartbeatInterval": heartbeatInterval,
                "upstreamTimeout": upstreamTimeout, "upstreamStreaming": upstreamStreaming, "maxAttempts": maxAttempts,
                "retryBaseDelay": retryBaseDelay, "retryMaxDelay": retryMaxDelay, "lease": lease, "statusTTL": statusTTL,
                "resultTTL": resultTTL, "shutdownGrace": shutdownGrace, "maxBodySize": maxBodySize, "cacheTTL": cacheTTL,
                "batchMaxRequests": batchMaxRequests, "batchMaxFileSize": batchMaxFileSize, "maxPrompts": maxPrompts,
                "maxPromptLength": maxPromptLength, "maxTokensLimit": maxTokensLimit, "logLevel": logLevel, "logFormat": logFormat,
            ],
            displayStyle: .struct
        )
    }
}
