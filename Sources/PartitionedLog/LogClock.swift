import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// Wall-clock time in epoch milliseconds, injected so retention and segment-age tests run on a
/// manual clock.
public protocol LogClock: Sendable {
  func nowMilliseconds() -> Int64
}

/// The system's real-time clock.
public struct SystemLogClock: LogClock {
  public init() {}
  public func nowMilliseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
  }
}

/// A clock that moves only when told to.
public final class ManualLogClock: LogClock {
  private let now: Atomic<Int64>
  public init(_ start: Int64) { now = Atomic(start) }
  public func nowMilliseconds() -> Int64 { now.load(ordering: .relaxed) }
  public func advance(milliseconds: Int64) { now.add(milliseconds, ordering: .relaxed) }
  public func set(_ value: Int64) { now.store(value, ordering: .relaxed) }
}
