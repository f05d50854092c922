/// Delays between attempts after failures: doubling from `initialMs` up to `maxMs`, each
/// shortened by a random fraction up to `jitter`, so that many gateways (or many ports and
/// links on one) that lost the same peer do not come back in step. The one back-off of the
/// package: sources reconnecting, uplinks retrying deliveries and reconnecting, the daemon
/// restarting a failed service.
///
/// Use it stateless (``delayMs(failures:random:)``, the caller counts failures) or stateful
/// (``nextDelayMs(random:)`` counts them, ``reset()`` after a success).
public struct Backoff: Sendable, Equatable {
  /// The first delay. Default: 250 ms.
  public var initialMs: Int
  /// No delay is longer. Default: 30 s.
  public var maxMs: Int
  /// The part of each delay that is random, 0 (none) to 1; 0.5 is "equal jitter": a delay lies
  /// between half its bound and the bound. Default: 0.5.
  public var jitter: Double
  /// Failures since the last ``reset()`` (stateful use).
  public private(set) var failures = 0

  public init(initialMs: Int = 250, maxMs: Int = 30_000, jitter: Double = 0.5) {
    self.initialMs = initialMs
    self.maxMs = maxMs
    self.jitter = jitter
  }

  /// The longest delay before attempt `failures` (1 for the first retry); 0 when nothing failed.
  /// Bounds out of order are read as their nearest sensible values (at least 1 ms, the maximum
  /// at least the initial delay); nothing overflows.
  public func boundMs(failures: Int) -> Int {
    guard failures > 0 else { return 0 }
    let initial = max(1, initialMs)
    let ceiling = max(initial, maxMs)
    var bound = initial
    for _ in 0..<min(failures - 1, 63) {
      if bound > ceiling / 2 { return ceiling }
      bound *= 2
    }
    return min(bound, ceiling)
  }

  /// The delay before attempt `failures`, with `random` uniform in 0..<1 (deterministic tests).
  public func delayMs(failures: Int, random: Double) -> Int {
    let bound = boundMs(failures: failures)
    guard bound > 0 else { return 0 }
    let fraction = min(max(jitter, 0), 1) * min(max(random, 0), 1)
    let delay = (Double(bound) * (1 - fraction)).rounded()
    guard delay < Double(bound) else { return bound }
    return max(1, Int(delay))
  }

  public func delayMs(failures: Int, using generator: inout some RandomNumberGenerator) -> Int {
    delayMs(failures: failures, random: Double.random(in: 0..<1, using: &generator))
  }

  /// Counts a failure and returns the delay before the next attempt.
  public mutating func nextDelayMs(random: Double) -> Int {
    if failures < Int.max { failures += 1 }
    return delayMs(failures: failures, random: random)
  }

  public mutating func nextDelayMs() -> Int { nextDelayMs(random: Double.random(in: 0..<1)) }

  /// After a success: the next failure waits ``initialMs`` again.
  public mutating func reset() { failures = 0 }
}
