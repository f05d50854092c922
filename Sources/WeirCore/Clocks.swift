import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// The monotonic clock, read directly: for intervals, timeouts, deadlines and back-off, never
/// for event time or anything stored. The one reader of `CLOCK_MONOTONIC` in the package (the
/// condition variables in the log wait on the same clock).
public enum Monotonic {
  @inline(__always)
  public static func nanoseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
  }

  @inline(__always)
  public static func milliseconds() -> Int64 { nanoseconds() / 1_000_000 }

  public static func seconds() -> Double { Double(nanoseconds()) / 1e9 }
}

/// Wall-clock time in epoch milliseconds, injected where tests need to move it (retention,
/// segment ages, uplink and serial timestamps). Intervals use ``Monotonic``; the rule engine's
/// processing time takes a Swift `Clock`.
public protocol WallClock: Sendable {
  func nowMilliseconds() -> Int64
}

/// The system's real-time clock.
public struct SystemWallClock: WallClock {
  public init() {}

  @inline(__always)
  public func nowMilliseconds() -> Int64 { Self.milliseconds() }

  /// Epoch milliseconds now, for code that is never run on a manual clock.
  @inline(__always)
  public static func milliseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
  }
}

/// A clock that moves only when told to.
public final class ManualWallClock: WallClock {
  private let now: Atomic<Int64>
  public init(_ start: Int64) { now = Atomic(start) }
  public func nowMilliseconds() -> Int64 { now.load(ordering: .relaxed) }
  public func advance(milliseconds: Int64) { now.add(milliseconds, ordering: .relaxed) }
  public func set(_ value: Int64) { now.store(value, ordering: .relaxed) }
}
