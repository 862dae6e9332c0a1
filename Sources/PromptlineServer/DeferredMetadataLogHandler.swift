import Logging

/// Keeps a logger's metadata itself and hands it to the handler it wraps only with an
/// event, so that giving a logger a `request_id` or a `task_id` costs a dictionary write.
///
/// swift-log's `StreamLogHandler` renders its whole metadata to text each time a key is
/// set; a request sets three keys before it logs anything, if it logs at all. Precedence is
/// swift-log's: the event's own metadata wins over the provider's, which wins over the
/// logger's.
package struct DeferredMetadataLogHandler<Base: LogHandler>: LogHandler {
    package var base: Base
    package var metadata: Logger.Metadata = [:]
    package var metadataProvider: Logger.MetadataProvider?

    package init(_ base: Base) {
        self.metadataProvider = base.metadataProvider
        self.base = base
        self.base.metadataProvider = nil
    }

    package var logLevel: Logger.Level {
        get { base.logLevel }
        set { base.logLevel = newValue }
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        var event = event
        var merged = metadata
        if let provided = metadataProvider?.get(), !provided.isEmpty { merged.merge(provided) { _, new in new } }
        if let given = event.metadata { merged.merge(given) { _, new in new } }
        event.metadata = merged.isEmpty ? nil : merged
        base.log(event: event)
    }
}
