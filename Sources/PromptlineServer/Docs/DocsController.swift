import Hummingbird
import NIOCore

/// `GET /openapi.json` and `GET /docs`: the API's description and a page that shows it.
/// Both stay open when API keys are configured.
struct DocsController: Sendable {
    private static let document = ByteBuffer(string: OpenAPIDocument.json)
    private static let page = ByteBuffer(string: DocsPage.html)

    func addRoutes(to router: Router<some RequestContext>) {
        router.get("/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: Self.document))
        }
        router.get("/docs") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: ResponseBody(byteBuffer: Self.page))
        }
    }
}
