/// `+` and `-` for the instants of any clock, as `ContinuousClock.Instant` has them, so that
/// code generic over its clock reads the same as code on the continuous clock.
extension InstantProtocol {
    static func + (instant: Self, duration: Duration) -> Self {
        instant.advanced(by: duration)
    }

    static func - (later: Self, earlier: Self) -> Duration {
        earlier.duration(to: later)
    }
}
