import Foundation

/// xoshiro256** 1.0 (Blackman and Vigna): the generator behind every random draw in the models and
/// the fault injector. Seeded through ``SplitMix64`` as its authors recommend.
///
/// The helpers below (`unitDouble`, `gaussian`, `below`) are written out here rather than taken
/// from the standard library, whose `random(in:using:)` algorithms are not promised to stay the
/// same across Swift versions; ours are, so a seed means the same run forever.
public struct Xoshiro256: RandomNumberGenerator, Sendable {
  private var s0: UInt64
  private var s1: UInt64
  private var s2: UInt64
  private var s3: UInt64
  private var spareGaussian: Double?

  public init(seed: UInt64) {
    var seeder = SplitMix64(seed: seed)
    s0 = seeder.next()
    s1 = seeder.next()
    s2 = seeder.next()
    s3 = seeder.next()
    spareGaussian = nil
  }

  public mutating func next() -> UInt64 {
    let result = rotl(s1 &* 5, 7) &* 9
    let t = s1 << 17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = rotl(s3, 45)
    return result
  }

  /// A uniform value in [0, 1) with 53 random bits.
  public mutating func unitDouble() -> Double {
    Double(next() >> 11) * 0x1.0p-53
  }

  /// A uniform value in [low, high).
  public mutating func uniform(_ low: Double, _ high: Double) -> Double {
    low + (high - low) * unitDouble()
  }

  /// True with probability `p`. Always draws exactly one value, so the stream stays aligned
  /// whatever `p` is (a rate of 0 consumes the same randomness as a rate of 0.5).
  public mutating func chance(_ p: Double) -> Bool {
    unitDouble() < p
  }

  /// A uniform integer in 0..<bound (bound > 0), by rejection so it has no modulo bias.
  public mutating func below(_ bound: Int) -> Int {
    precondition(bound > 0, "bound must be positive")
    let range = UInt64(bound)
    let limit = UInt64.max - UInt64.max % range
    while true {
      let value = next()
      if value < limit { return Int(value % range) }
    }
  }

  /// A standard normal value (mean 0, standard deviation 1), Box–Muller with the second value kept.
  public mutating func gaussian() -> Double {
    if let spare = spareGaussian {
      spareGaussian = nil
      return spare
    }
    var u1 = unitDouble()
    while u1 <= 0 { u1 = unitDouble() }
    let u2 = unitDouble()
    let radius = (-2.0 * log(u1)).squareRoot()
    let angle = 2.0 * Double.pi * u2
    spareGaussian = radius * sin(angle)
    return radius * cos(angle)
  }

  /// A normal value with the given mean and standard deviation.
  public mutating func gaussian(mean: Double, deviation: Double) -> Double {
    mean + deviation * gaussian()
  }

  /// An exponentially distributed value with the given mean (waiting times between load changes).
  public mutating func exponential(mean: Double) -> Double {
    var u = unitDouble()
    while u <= 0 { u = unitDouble() }
    return -mean * log(u)
  }

  private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 {
    (x << k) | (x >> (64 - k))
  }
}
