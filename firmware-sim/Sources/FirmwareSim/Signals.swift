import Foundation

/// Round a value to a sensor's resolution, as an ADC with `decimals` decimal digits would report it.
@inline(__always)
func quantise(_ value: Double, decimals: Int) -> Double {
  let scale = powersOfTen[decimals]
  return (value * scale).rounded() / scale
}

let powersOfTen: [Double] = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000]

/// A first-order lag (an RC filter): `value` approaches `target` with time constant `tau` seconds.
/// Thermal masses and motor load changes both behave like this.
struct FirstOrderLag: Sendable {
  var value: Double
  let tauSeconds: Double

  mutating func step(toward target: Double, seconds: Double) -> Double {
    guard seconds > 0 else { return value }
    let alpha = 1 - exp(-seconds / tauSeconds)
    value += (target - value) * alpha
    return value
  }
}

/// Daily cycles, from the hour of day (UTC).
enum DailyCycle {
  /// Ambient temperature in a plant hall: a sinusoid peaking at 15:00.
  static func ambientTemperature(hour: Double, mean: Double, amplitude: Double) -> Double {
    mean + amplitude * sin(2 * Double.pi * (hour - 9) / 24)
  }

  /// Production shift profile in 0...1: two shifts from 06:00 to 22:00, low load at night, with
  /// one-hour smooth ramps at the shift changes.
  static func shiftProfile(hour: Double) -> Double {
    let up = smoothstep(edge0: 5.5, edge1: 6.5, hour)
    let down = smoothstep(edge0: 21.5, edge1: 22.5, hour)
    return up - down
  }

  static func smoothstep(edge0: Double, edge1: Double, _ x: Double) -> Double {
    let t = min(max((x - edge0) / (edge1 - edge0), 0), 1)
    return t * t * (3 - 2 * t)
  }
}

/// A machine's load factor (0...1): the daily shift profile plus random load changes at exponential
/// intervals (a new batch, a different product), followed through a short first-order lag so steps
/// look like a drive ramping rather than a jump.
struct LoadProcess: Sendable {
  let nightLoad: Double
  let dayLoad: Double
  let meanChangeSeconds: Double
  private var offset: Double
  private var nextChangeMillis: Int64
  private var lag: FirstOrderLag

  init(nightLoad: Double, dayLoad: Double, meanChangeSeconds: Double, rng: inout Xoshiro256) {
    self.nightLoad = nightLoad
    self.dayLoad = dayLoad
    self.meanChangeSeconds = meanChangeSeconds
    offset = rng.uniform(-0.1, 0.1)
    nextChangeMillis = Int64(rng.exponential(mean: meanChangeSeconds) * 1000)
    lag = FirstOrderLag(value: nightLoad, tauSeconds: 20)
  }

  /// The load at `simMillis`, `seconds` after the previous step. Draws exactly two random values per
  /// call whether or not the load changes, so the stream stays aligned.
  mutating func step(simMillis: Int64, seconds: Double, hour: Double, rng: inout Xoshiro256) -> Double {
    let newOffset = rng.uniform(-0.2, 0.15)
    let wait = rng.exponential(mean: meanChangeSeconds)
    if simMillis >= nextChangeMillis {
      offset = newOffset
      nextChangeMillis = simMillis + Int64(wait * 1000)
    }
    let base = nightLoad + (dayLoad - nightLoad) * DailyCycle.shiftProfile(hour: hour)
    let target = min(max(base + offset, 0.15), 1.0)
    if seconds <= 0 {
      lag.value = target
      return target
    }
    return lag.step(toward: target, seconds: seconds)
  }
}
