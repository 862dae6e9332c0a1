import Hummingbird
import NIOCore

/// `GET /openapi.json` and `GET /docs`: the API's description and a page that shows it.
/// Both stay open when API keys are configured.
///
/// The two are this module's resource files `Docs/openapi.json` and `Docs/docs.html`,
/// embedded in the binary (`.embedInCode` in Package.swift, which makes SwiftPM generate
/// `PackageResources.openapi_json` and `PackageResources.docs_html`), so the `promptline`
/// executable works wherever it is copied. `OpenAPIDocumentTests` fails when a route is
/// registered on the router without an operation in the document, or the other way round.
struct DocsController: Sendable {
    /// The OpenAPI 3.1 document, byte for byte as the file holds it.
    static let document = ByteBuffer(bytes: PackageResources.openapi_json)
    /// The page; it fetches `/openapi.json` itself, so nothing in it is filled in here.
    static let page = ByteBuffer(bytes: PackageResources.docs_html)

    func addRoutes(to router: Router<some RequestContext>) {
        router.get("/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: Self.document))
        }
        router.get("/docs") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: ResponseBody(byteBuffer: Self.page))
        }
    }
}
