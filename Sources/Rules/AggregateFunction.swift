import Payload

/// The aggregate functions of the rule language.
enum AggregateFunction: String, CaseIterable, Sendable {
  case count, sum, avg, min, max, stddev, variance, rms
  case peakToPeak = "peak_to_peak"
  case crestFactor = "crest_factor"
  case kurtosis, skewness, percentile
  case first, last, delta, rate, ewma, zscore, slope, forecast
  case timeToThreshold = "time_to_threshold"

  /// The statistics the function reads.
  var features: InputFeatures {
    switch self {
    case .count: []
    case .sum, .avg, .stddev, .variance, .rms: .moments
    case .min, .max, .peakToPeak, .crestFactor: [.moments, .extremes]
    case .kurtosis, .skewness: [.moments, .higherMoments]
    case .percentile: [.moments, .values]
    case .first, .last: .anyEndpoints
    case .delta, .rate, .zscore: [.moments, .endpoints]
    case .ewma: .moments
    case .slope, .forecast, .timeToThreshold: [.moments, .regression]
    }
  }

  /// The name of the constant second argument, for functions that take one.
  var parameterName: String? {
    switch self {
    case .percentile: "p"
    case .ewma: "alpha"
    case .forecast: "horizon"
    case .timeToThreshold: "limit"
    default: nil
    }
  }

  /// Computes the function over a window's statistics; `windowEnd` is in epoch milliseconds.
  func evaluate(_ a: InputAccumulator, records: Int64, parameter: Double, windowEnd: Int64, star: Bool) -> Value {
    let n = Double(a.n)
    func number(_ v: Double?) -> Value {
      guard let v, v.isFinite else { return .null }
      return .number(v)
    }
    switch self {
    case .count: return .number(Double(star ? records : a.nonNull))
    case .first: return a.anyFirst
    case .last: return a.anyLast
    default: break
    }
    guard a.n > 0 else { return .null }
    switch self {
    case .count, .first, .last: return .null
    case .sum: return number(a.compensatedSum)
    case .avg: return number(a.mean)
    case .min: return number(a.min)
    case .max: return number(a.max)
    case .variance: return a.n > 1 ? number(a.m2 / (n - 1)) : .null
    case .stddev: return a.n > 1 ? number((a.m2 / (n - 1)).squareRoot()) : .null
    case .rms: return number(AggregateFunction.rms(a))
    case .peakToPeak: return number(a.max - a.min)
    case .crestFactor:
      let rms = AggregateFunction.rms(a)
      return rms > 0 ? number(Swift.max(a.max.magnitude, a.min.magnitude) / rms) : .null
    case .kurtosis: return a.m2 > 0 ? number(n * a.m4 / (a.m2 * a.m2) - 3) : .null
    case .skewness: return a.m2 > 0 ? number(n.squareRoot() * a.m3 / (a.m2 * a.m2.squareRoot())) : .null
    case .percentile: return number(AggregateFunction.percentile(a.values, parameter))
    case .delta: return number(a.lastNumber - a.firstNumber)
    case .rate:
      guard a.lastTime > a.firstTime else { return .null }
      return number((a.lastNumber - a.firstNumber) / (Double(a.lastTime - a.firstTime) / 1000))
    case .ewma:
      return number(a.ewma.first(where: { $0.alpha == parameter })?.result)
    case .zscore:
      guard a.n > 1 else { return .null }
      let sd = (a.m2 / (n - 1)).squareRoot()
      return sd > 0 ? number((a.lastNumber - a.mean) / sd) : .null
    case .slope:
      guard let perMs = AggregateFunction.slopePerMillisecond(a) else { return .null }
      return number(perMs * 1000)
    case .forecast:
      guard let perMs = AggregateFunction.slopePerMillisecond(a) else { return .null }
      let at = Double(windowEnd &- a.origin) + parameter * 1000
      return number(a.mean + perMs * (at - a.meanTime))
    case .timeToThreshold:
      return number(AggregateFunction.timeToThreshold(a, limit: parameter, windowEnd: windowEnd))
    }
  }

  static func rms(_ a: InputAccumulator) -> Double {
    (a.mean * a.mean + a.m2 / Double(a.n)).squareRoot()
  }

  static func slopePerMillisecond(_ a: InputAccumulator) -> Double? {
    guard a.n > 1, a.m2Time > 0 else { return nil }
    return a.coMoment / a.m2Time
  }

  /// Seconds after `windowEnd` at which the fitted trend reaches `limit`, approaching it from the side the
  /// window's mean is on; 0 if the trend is already past it; nil if the trend is flat or moving away.
  static func timeToThreshold(_ a: InputAccumulator, limit: Double, windowEnd: Int64) -> Double? {
    guard let perMs = slopePerMillisecond(a) else { return a.n > 0 && a.mean == limit ? 0 : nil }
    if a.mean == limit { return 0 }
    let rising = a.mean < limit
    guard rising ? perMs > 0 : perMs < 0 else { return nil }
    let valueAtEnd = a.mean + perMs * (Double(windowEnd &- a.origin) - a.meanTime)
    let ms = (limit - valueAtEnd) / perMs
    return Swift.max(0, ms / 1000)
  }

  /// Linear interpolation between closest ranks (type 7 of Hyndman and Fan, as numpy and R default).
  static func percentile(_ values: [Double], _ p: Double) -> Double? {
    guard !values.isEmpty, p >= 0, p <= 1 else { return nil }
    let sorted = values.sorted()
    let rank = p * Double(sorted.count - 1)
    // The compiler keeps p in [0, 1]; the checked conversion and the clamp keep a rounding slip from trapping.
    guard let whole = Int(exactly: rank.rounded(.down)) else { return nil }
    let low = Swift.min(Swift.max(whole, 0), sorted.count - 1)
    let high = Swift.min(low + 1, sorted.count - 1)
    let fraction = rank - Double(low)
    return sorted[low] + (sorted[high] - sorted[low]) * fraction
  }
}
