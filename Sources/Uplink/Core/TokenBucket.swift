/// The bandwidth cap: `rate` bytes per second with bursts up to `burst`. A send may take the
/// bucket below zero (a record larger than what is left still goes out whole); the debt is paid
/// before the next one, so the long-run rate is exact.
struct TokenBucket {
  let rate: Double
  let burst: Double
  private(set) var tokens: Double
  private var lastNs: Int64

  init(bytesPerSecond: Int, burst: Int?, nowNs: Int64) {
    rate = Double(bytesPerSecond)
    self.burst = Double(burst ?? max(16 << 10, bytesPerSecond / 10))
    tokens = self.burst
    lastNs = nowNs
  }

  mutating func refill(nowNs: Int64) {
    guard nowNs > lastNs else { return }
    tokens = min(burst, tokens + Double(nowNs - lastNs) * rate / 1e9)
    lastNs = nowNs
  }

  /// Takes `bytes` if anything is left; false when the caller must wait.
  mutating func take(_ bytes: Int) -> Bool {
    guard tokens > 0 else { return false }
    tokens -= Double(bytes)
    return true
  }

  /// Gives back what a send that did not happen took.
  mutating func refund(_ bytes: Int) { tokens = min(burst, tokens + Double(bytes)) }

  /// Nanoseconds until a send may go.
  var nanosecondsUntilAvailable: Int64 { tokens > 0 ? 0 : Int64((-tokens + 1) / rate * 1e9) + 1 }
}
