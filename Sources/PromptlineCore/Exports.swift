// Durations in other units, and backoff, are part of the vocabulary of every module above
// this one; they live in `Timing` only so that the Redis client and the mock upstream can
// share them.
@_exported import Timing
