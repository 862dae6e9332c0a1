import Hummingbird

/// The request context of every Promptline route: Hummingbird's basics and the caller.
package struct PromptlineRequestContext: RequestContext {
    package var coreContext: CoreRequestContextStorage
    /// The API key that made the request; `nil` on a server without keys, where everyone
    /// may do everything. Set by ``AccessMiddleware``.
    package var caller: APIKey?

    package init(source: Source) {
        coreContext = .init(source: source)
    }

    /// What a task, batch or file records as its owner when this request creates it.
    var owner: String? { caller?.id }

    /// Whether this request may see something that `owner` created: everything on an open
    /// server, only its own key's things otherwise.
    func maySee(ownedBy owner: String?) -> Bool {
        caller == nil || caller?.id == owner
    }
}
