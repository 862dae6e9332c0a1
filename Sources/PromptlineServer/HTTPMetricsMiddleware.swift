import CoreMetrics
import HTTPTypes
import Hummingbird
import Metrics
import Synchronization

/// Counts requests by route and status, and times them:
/// `promptline_http_requests_total{method, route, status}` and
/// `promptline_http_request_duration_seconds{method, route}`.
///
/// The route is the template a request matched (`/api/tasks/{id}`), never the raw path, and
/// `unmatched` for a path no route takes; a method outside the standard ones is `other`.
/// So the labels stay few whatever clients send. The duration ends when the response's head
/// is ready: a streamed body's time is not in it.
struct HTTPMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    private struct Key: Hashable {
        var method: String
        var route: String
        var status: Int
    }

    private struct Handles {
        var requests: Counter
        var duration: CoreMetrics.Timer
    }

    /// Handles already made, so that a request costs a dictionary look-up, not a registry's.
    private final class Made: Sendable {
        let handles = Mutex<[Key: Handles]>([:])
    }

    private let factory: any MetricsFactory
    private let made = Made()

    init(factory: any MetricsFactory) {
        self.factory = factory
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            record(request, context: context, status: response.status, since: start)
            return response
        } catch let error as any HTTPResponseError {
            record(request, context: context, status: error.status, since: start)
            throw error
        } catch {
            record(request, context: context, status: .internalServerError, since: start)
            throw error
        }
    }

    private func record(_ request: Request, context: Context, status: HTTPResponse.Status, since start: ContinuousClock.Instant) {
        let method = switch request.method {
        case .get, .post, .put, .patch, .delete, .head, .options: request.method.rawValue
        default: "other"
        }
        // Hummingbird names a path no route takes `NotFound`; routes all begin with a slash.
        let route = context.endpointPath.flatMap { $0.hasPrefix("/") ? $0 : nil } ?? "unmatched"
        let key = Key(method: method, route: route, status: status.code)
        let entry = handles(for: key)
        entry.requests.increment()
        entry.duration.record(duration: ContinuousClock.now - start)
    }

    private func handles(for key: Key) -> Handles {
        made.handles.withLock { made in
            if let existing = made[key] { return existing }
            let labels = [("method", key.method), ("route", key.route)]
            let new = Handles(
                requests: Counter(
                    label: "promptline_http_requests_total", dimensions: labels + [("status", String(key.status))], factory: factory
                ),
                duration: CoreMetrics.Timer(label: "promptline_http_request_duration_seconds", dimensions: labels, factory: factory)
            )
            made[key] = new
            return new
        }
    }
}
