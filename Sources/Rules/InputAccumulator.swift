import Payload

/// Which statistics an accumulator keeps for one aggregate input; only what the rule's functions need is updated.
struct InputFeatures: OptionSet, Hashable, Sendable {
  let rawValue: UInt16
  /// Count, compensated sum, Welford mean and M2.
  static let moments = InputFeatures(rawValue: 1)
  /// Third and fourth central moments (skewness, kurtosis).
  static let higherMoments = InputFeatures(rawValue: 2)
  static let extremes = InputFeatures(rawValue: 4)
  /// Numeric first and last by event time (delta, rate, zscore).
  static let endpoints = InputFeatures(rawValue: 8)
  /// Least-squares co-moments against event time (slope, forecast, time_to_threshold).
  static let regression = InputFeatures(rawValue: 16)
  /// Every value (percentile).
  static let values = InputFeatures(rawValue: 32)
  /// First and last of any type by event time (first, last, bare fields in SELECT).
  static let anyEndpoints = InputFeatures(rawValue: 64)
}

/// The running state of an exponentially weighted moving average, mergeable in order.
///
/// For values x₀…xₙ₋₁ and s₀ = x₀, sₙ = decay·x₀ + weighted with decay = (1-α)ⁿ and weighted = Σ α(1-α)ⁿ⁻¹⁻ʲxⱼ,
/// so two consecutive runs combine as (decayA·decayB, weightedA·decayB + weightedB).
struct EWMAState: Equatable {
  var alpha: Double
  var count: Int64 = 0
  var first = 0.0
  var weighted = 0.0
  var decay = 1.0

  mutating func add(_ x: Double) {
    if count == 0 { first = x }
    count += 1
    weighted = weighted * (1 - alpha) + alpha * x
    decay *= 1 - alpha
  }

  mutating func merge(_ other: EWMAState) {
    guard other.count > 0 else { return }
    guard count > 0 else {
      self = other
      return
    }
    weighted = weighted * other.decay + other.weighted
    decay *= other.decay
    count += other.count
  }

  var result: Double? { count > 0 ? decay * first + weighted : nil }
}

/// Per-window statistics of one aggregate input (one distinct argument expression of a rule).
///
/// Variance uses Welford's update and Chan's merge (Pébay's formulas for the third and fourth moments); sums are
/// Neumaier-compensated; regression co-moments are updated the same way, with time in milliseconds from `origin`.
struct InputAccumulator: Equatable {
  var nonNull: Int64 = 0
  var n: Int64 = 0
  var sum = 0.0
  var sumCompensation = 0.0
  var mean = 0.0
  var m2 = 0.0
  var m3 = 0.0
  var m4 = 0.0
  var min = Double.infinity
  var max = -Double.infinity
  var firstTime = Int64.max
  var firstNumber = 0.0
  var lastTime = Int64.min
  var lastNumber = 0.0
  var origin = Int64.min
  var meanTime = 0.0
  var m2Time = 0.0
  var coMoment = 0.0
  var values: [Double] = []
  var anyFirstTime = Int64.max
  var anyFirst = Value.null
  var anyLastTime = Int64.min
  var anyLast = Value.null
  var ewma: [EWMAState] = []

  init(ewmaAlphas: [Double]) {
    ewma = ewmaAlphas.map { EWMAState(alpha: $0) }
  }

  var compensatedSum: Double { sum + sumCompensation }

  @inline(__always) mutating func add(_ scalar: Scalar, time: Int64, features: InputFeatures) {
    if scalar.isNull { return }
    nonNull += 1
    if features.contains(.anyEndpoints) {
      if time < anyFirstTime {
        anyFirstTime = time
        anyFirst = scalar.value
      }
      if time >= anyLastTime {
        anyLastTime = time
        if case .text(let p, let c, let e) = scalar, case .string(let old) = anyLast, !e, old.utf8.count == c,
          old.utf8.withContiguousStorageIfAvailable({ c == 0 || Scalar.memcmpBytes($0.baseAddress!, p, c) == 0 })
            == true
        {
          // The same text as before (a device name, say): keep the copy we have.
        } else {
          anyLast = scalar.value
        }
      }
    }
    guard case .number(let x) = scalar, x.isFinite else { return }
    addNumber(x, time: time, features: features)
  }

  @inline(__always) mutating func addNumber(_ x: Double, time: Int64, features: InputFeatures) {
    let n1 = Double(n)
    n += 1
    let nd = Double(n)
    let delta = x - mean
    let deltaN = delta / nd
    if features.contains(.higherMoments) {
      let deltaN2 = deltaN * deltaN
      let term1 = delta * deltaN * n1
      m4 += term1 * deltaN2 * (nd * nd - 3 * nd + 3) + 6 * deltaN2 * m2 - 4 * deltaN * m3
      m3 += term1 * deltaN * (nd - 2) - 3 * deltaN * m2
    }
    m2 += delta * deltaN * n1
    mean += deltaN
    let t = sum + x
    if sum.magnitude >= x.magnitude {
      sumCompensation += (sum - t) + x
    } else {
      sumCompensation += (x - t) + sum
    }
    sum = t
    if features.contains(.extremes) {
      if x < min { min = x }
      if x > max { max = x }
    }
    if features.contains(.endpoints) {
      if time < firstTime {
        firstTime = time
        firstNumber = x
      }
      if time >= lastTime {
        lastTime = time
        lastNumber = x
      }
    }
    if features.contains(.regression) {
      if origin == Int64.min { origin = time }
      let tt = Double(time &- origin)
      let dt = tt - meanTime
      meanTime += dt / nd
      m2Time += dt * (tt - meanTime)
      coMoment += dt * (x - mean)
    }
    if features.contains(.values) { values.append(x) }
    for i in ewma.indices { ewma[i].add(x) }
  }

  /// Combines with the statistics of records that come after these in processing order.
  mutating func merge(_ o: InputAccumulator, features: InputFeatures) {
    nonNull += o.nonNull
    if o.anyFirstTime < anyFirstTime {
      anyFirstTime = o.anyFirstTime
      anyFirst = o.anyFirst
    }
    if o.anyLastTime >= anyLastTime, o.nonNull > 0, o.anyLastTime != Int64.min {
      anyLastTime = o.anyLastTime
      anyLast = o.anyLast
    }
    guard o.n > 0 else { return }
    guard n > 0 else {
      let keptNonNull = nonNull
      let keptAny = (anyFirstTime, anyFirst, anyLastTime, anyLast)
      self = o
      nonNull = keptNonNull
      (anyFirstTime, anyFirst, anyLastTime, anyLast) = keptAny
      return
    }
    let na = Double(n)
    let nb = Double(o.n)
    let nt = na + nb
    let delta = o.mean - mean
    if features.contains(.higherMoments) {
      let d2 = delta * delta
      m4 +=
        o.m4 + d2 * d2 * na * nb * (na * na - na * nb + nb * nb) / (nt * nt * nt)
        + 6 * d2 * (na * na * o.m2 + nb * nb * m2) / (nt * nt) + 4 * delta * (na * o.m3 - nb * m3) / nt
      m3 += o.m3 + d2 * delta * na * nb * (na - nb) / (nt * nt) + 3 * delta * (na * o.m2 - nb * m2) / nt
    }
    m2 += o.m2 + delta * delta * na * nb / nt
    if features.contains(.regression) {
      let shift = Double(o.origin &- origin)
      let deltaTime = (o.meanTime + shift) - meanTime
      coMoment += o.coMoment + deltaTime * delta * na * nb / nt
      m2Time += o.m2Time + deltaTime * deltaTime * na * nb / nt
      meanTime += deltaTime * nb / nt
    }
    mean += delta * nb / nt
    n += o.n
    for part in [o.sum, o.sumCompensation] {
      let t = sum + part
      if sum.magnitude >= part.magnitude {
        sumCompensation += (sum - t) + part
      } else {
        sumCompensation += (part - t) + sum
      }
      sum = t
    }
    if o.min < min { min = o.min }
    if o.max > max { max = o.max }
    if o.firstTime < firstTime {
      firstTime = o.firstTime
      firstNumber = o.firstNumber
    }
    if o.lastTime >= lastTime {
      lastTime = o.lastTime
      lastNumber = o.lastNumber
    }
    if features.contains(.values) { values.append(contentsOf: o.values) }
    for i in ewma.indices { ewma[i].merge(o.ewma[i]) }
  }
}
