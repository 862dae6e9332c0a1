import NIOHTTP1

/// An upstream's answer: its head and its body.
public struct UpstreamResponse: Sendable {
    public var head: HTTPResponseHead
    public var body: UpstreamBody
}
