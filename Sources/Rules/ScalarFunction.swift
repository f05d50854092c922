/// Non-aggregate functions, usable per record and per window.
enum ScalarFunction: String, CaseIterable, Sendable {
  case abs, sqrt, round, floor, ceil, ln, exp, pow, coalesce
  /// The record's key as text (`record_key()`); per record only.
  case recordKey = "record_key"
  /// The record's event time in epoch milliseconds (`record_time()`); per record only.
  case recordTime = "record_time"

  var arity: ClosedRange<Int> {
    switch self {
    case .recordKey, .recordTime: 0...0
    case .round: 1...2
    case .pow: 2...2
    case .coalesce: 1...64
    default: 1...1
    }
  }

  /// Applies a numeric function (every case but coalesce and the record functions).
  func apply(_ x: Double, _ y: Double) -> Double {
    switch self {
    case .abs: x.magnitude
    case .sqrt: x.squareRoot()
    case .round:
      if y == 0 { x.rounded(.toNearestOrAwayFromZero) } else {
        (x * ScalarFunction.power(10, y)).rounded(.toNearestOrAwayFromZero) / ScalarFunction.power(10, y)
      }
    case .floor: x.rounded(.down)
    case .ceil: x.rounded(.up)
    case .ln: ScalarFunction.log(x)
    case .exp: ScalarFunction.exp(x)
    case .pow: ScalarFunction.power(x, y)
    case .coalesce, .recordKey, .recordTime: .nan
    }
  }

  static func power(_ x: Double, _ y: Double) -> Double {
    if y == y.rounded(), y.magnitude <= 64 {
      var result = 1.0
      for _ in 0..<Int(y.magnitude) { result *= x }
      return y < 0 ? 1 / result : result
    }
    return exp(y * log(x))
  }

  /// Natural logarithm by argument reduction and the atanh series (no libm import needed in this target).
  static func log(_ x: Double) -> Double {
    guard x > 0 else { return x == 0 ? -.infinity : .nan }
    guard x.isFinite else { return x }
    let e = Double(x.exponent)
    let m = x.significand  // in [1, 2)
    let s = (m - 1) / (m + 1)
    let s2 = s * s
    var term = s
    var sum = 0.0
    var k = 1.0
    while term.magnitude > 1e-18 {
      sum += term / k
      term *= s2
      k += 2
    }
    return 2 * sum + e * 0.693_147_180_559_945_309_417_232_121_458
  }

  static func exp(_ x: Double) -> Double {
    guard x.isFinite else { return x > 0 ? x : 0 }
    if x > 709.8 { return .infinity }
    if x < -745.2 { return 0 }
    let ln2 = 0.693_147_180_559_945_309_417_232_121_458
    let k = (x / ln2).rounded()
    let r = x - k * ln2
    var term = 1.0
    var sum = 1.0
    var i = 1.0
    while term.magnitude > 1e-18 {
      term *= r / i
      sum += term
      i += 1
    }
    return Double(sign: .plus, exponent: Int(k), significand: sum)
  }
}
