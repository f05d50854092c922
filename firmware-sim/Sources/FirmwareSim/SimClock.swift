import Foundation

/// Maps simulated time onto wall-clock time.
///
/// Simulated time is counted in milliseconds since the start of the simulation (`Int64`); event
/// timestamps are `startEpochMillis + simulated time`. At `speed` 600 one real second covers ten
/// simulated minutes, so hours of degradation play out in seconds while the payload timestamps
/// still follow simulated time.
public struct SimClock: Sendable {
  /// Epoch milliseconds of simulated time 0.
  public let startEpochMillis: Int64
  /// Simulated seconds per real second (1 = real time).
  public let speed: Double

  public init(startEpochMillis: Int64, speed: Double) {
    precondition(speed > 0, "speed must be positive")
    self.startEpochMillis = startEpochMillis
    self.speed = speed
  }

  /// Epoch milliseconds for a simulated time.
  public func epochMillis(_ simMillis: Int64) -> Int64 {
    startEpochMillis + simMillis
  }

  /// Hour of the day (UTC, 0..<24, fractional) at a simulated time: drives the daily cycles.
  public func hourOfDay(_ simMillis: Int64) -> Double {
    let millisOfDay = (epochMillis(simMillis) % 86_400_000 + 86_400_000) % 86_400_000
    return Double(millisOfDay) / 3_600_000.0
  }

  /// Real seconds needed to cover a span of simulated milliseconds.
  public func realSeconds(forSimMillis simMillis: Int64) -> Double {
    Double(simMillis) / 1000.0 / speed
  }

  /// Simulated milliseconds covered by a span of real seconds.
  public func simMillis(forRealSeconds seconds: Double) -> Int64 {
    Int64((seconds * speed * 1000.0).rounded(.down))
  }

  /// Wall-clock epoch milliseconds now.
  public static func wallEpochMillis() -> Int64 {
    Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
  }

  /// A monotonic clock reading in seconds, for pacing and rates.
  public static func monotonicSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
  }
}
