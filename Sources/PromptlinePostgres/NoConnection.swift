/// No pooled connection came in time (see ``PostgresVectorIndex/withConnection(_:_:)``).
struct NoConnection: Error {
    var wait: Duration
}
