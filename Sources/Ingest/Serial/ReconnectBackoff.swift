/// Delays between attempts to reopen a port: doubling from an initial delay up to a maximum,
/// each shortened by a random fraction up to `jitter` so that many gateways (or many ports
/// on one) do not retry in step.
struct ReconnectBackoff: Sendable {
  let initialMs: Int
  let maxMs: Int
  let jitter: Double
  /// Failed attempts since the last success.
  private(set) var failures = 0

  init(initialMs: Int, maxMs: Int, jitter: Double) {
    self.initialMs = max(1, initialMs)
    self.maxMs = max(self.initialMs, maxMs)
    self.jitter = min(max(jitter, 0), 1)
  }

  init(_ config: SerialPortConfig) {
    self.init(initialMs: config.reopenInitialDelayMs, maxMs: config.reopenMaxDelayMs, jitter: config.reopenJitter)
  }

  /// The delay before the next attempt; `random` is uniform in 0..<1.
  mutating func nextDelayMs(random: Double) -> Int {
    let shift = min(failures, 30)
    let base = min(maxMs, initialMs << shift)
    failures += 1
    return max(1, Int((Double(base) * (1 - jitter * random)).rounded()))
  }

  mutating func reset() { failures = 0 }
}
