import NIOCore

/// One event of a `text/event-stream` body.
package struct ServerSentEvent: Sendable, Hashable {
    /// The `event:` field; `nil` for the default type (`message`).
    package var event: String?
    /// The `data:` lines of the event, joined with `"\n"`.
    package var data: String
    /// The last event id seen on the stream when this event was dispatched (the SSE
    /// "last event ID": it carries over to later events until an `id:` field changes it).
    package var id: String?

    package init(event: String? = nil, data: String, id: String? = nil) {
        self.event = event
        self.data = data
        self.id = id
    }
}

extension ServerSentEvent {
    /// Appends the event in wire format (`event:`, `id:`, one `data:` line per line of
    /// `data`, then the blank line that dispatches it), for relaying a stream.
    ///
    /// Line breaks inside `event` and `id` cannot be represented and are dropped.
    package func write(into buffer: inout ByteBuffer) {
        if let event {
            buffer.writeStaticString("event: ")
            buffer.writeString(event.filter { $0 != "\n" && $0 != "\r" && $0 != "\r\n" })
            buffer.writeStaticString("\n")
        }
        if let id {
            buffer.writeStaticString("id: ")
            buffer.writeString(id.filter { $0 != "\n" && $0 != "\r" && $0 != "\r\n" })
            buffer.writeStaticString("\n")
        }
        // `split` on Character treats "\r\n" as one line break, as the parser does.
        for line in data.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) {
            buffer.writeStaticString("data: ")
            buffer.writeSubstring(line)
            buffer.writeStaticString("\n")
        }
        buffer.writeStaticString("\n")
    }
}
