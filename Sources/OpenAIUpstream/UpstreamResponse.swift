import NIOHTTP1

/// An upstream's answer: its head and its body.
package struct UpstreamResponse: Sendable {
    package var head: HTTPResponseHead
    package var body: UpstreamBody
}
