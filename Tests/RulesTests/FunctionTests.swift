import Payload
import Testing

@testable import Rules

/// Straightforward two-pass reference computations, to check the incremental ones against.
struct Reference {
  let times: [Int64]
  let xs: [Double]
  let windowEnd: Int64

  var n: Double { Double(xs.count) }
  var mean: Double { xs.reduce(0, +) / n }
  var variance: Double { xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / (n - 1) }
  func central(_ k: Int) -> Double {
    let m = mean
    return xs.map { v in (0..<k).reduce(1.0) { acc, _ in acc * (v - m) } }.reduce(0, +) / n
  }
  var kurtosis: Double { central(4) / (central(2) * central(2)) - 3 }
  var skewness: Double { central(3) / (central(2) * central(2).squareRoot()) }
  var rms: Double { (xs.map { $0 * $0 }.reduce(0, +) / n).squareRoot() }
  var first: Double { xs[times.firstIndex(of: times.min()!)!] }
  var last: Double { xs[times.lastIndex(of: times.max()!)!] }
  func percentile(_ p: Double) -> Double {
    let s = xs.sorted()
    let rank = p * Double(s.count - 1)
    let lo = Int(rank.rounded(.down))
    let hi = min(lo + 1, s.count - 1)
    return s[lo] + (s[hi] - s[lo]) * (rank - Double(lo))
  }
  func ewma(_ alpha: Double) -> Double {
    var s = xs[0]
    for x in xs { s = alpha * x + (1 - alpha) * s }
    return s
  }
  var seconds: [Double] { times.map { Double($0) / 1000 } }
  var slope: Double {
    let ts = seconds
    let tm = ts.reduce(0, +) / n
    let xm = mean
    let sxy = zip(ts, xs).map { ($0 - tm) * ($1 - xm) }.reduce(0, +)
    let sxx = ts.map { ($0 - tm) * ($0 - tm) }.reduce(0, +)
    return sxy / sxx
  }
  func trend(atSeconds t: Double) -> Double {
    let tm = seconds.reduce(0, +) / n
    return mean + slope * (t - tm)
  }
  func timeToThreshold(_ limit: Double) -> Double? {
    let end = Double(windowEnd) / 1000
    let rising = mean < limit
    guard rising ? slope > 0 : slope < 0 else { return nil }
    return max(0, (limit - trend(atSeconds: end)) / slope)
  }
}

@Suite struct FunctionTests {
  static let rule = """
    CREATE RULE f AS
    SELECT count(*) AS n, count(x) AS nx, sum(x) AS s, avg(x) AS a, min(x) AS lo, max(x) AS hi,
      stddev(x) AS sd, variance(x) AS var, rms(x) AS rms, peak_to_peak(x) AS p2p, crest_factor(x) AS cf,
      kurtosis(x) AS k, skewness(x) AS sk, percentile(x, 0.9) AS p90, percentile(x, 0) AS p0, first(x) AS f,
      last(x) AS l, delta(x) AS d, rate(x) AS r, ewma(x, 0.3) AS e, zscore(x) AS z, slope(x) AS sl,
      forecast(x, 60s) AS fc, time_to_threshold(x, LIMIT) AS ttt
    FROM telemetry
    GROUP BY dev, WINDOW
    HAVING n = COUNT
    RAISE ALERT 'info'
    """

  struct Case: CustomTestStringConvertible, Sendable {
    var window: String
    /// The window's advance: data is placed in an hour aligned to it, so exactly one window holds all of it.
    var advance: Int64
    var seed: UInt64
    var offset: Double
    var trend: Double
    var limit: Double
    var testDescription: String { "\(window) seed \(seed)" }
  }

  static let cases: [Case] = [
    Case(window: "TUMBLING(1h)", advance: 3_600_000, seed: 1, offset: 0, trend: 0.01, limit: 150),
    Case(window: "HOPPING(1h, 10m)", advance: 600_000, seed: 2, offset: 1e6, trend: -0.002, limit: 0),
    Case(window: "HOPPING(1h, 40m)", advance: 2_400_000, seed: 3, offset: -50, trend: 0.0, limit: 1e9),
    Case(window: "TUMBLING(1h)", advance: 3_600_000, seed: 4, offset: 1e9, trend: 0.5, limit: 1e9 + 1e6),
  ]

  @Test(arguments: cases)
  func everyFunctionMatchesTheReference(_ c: Case) throws {
    var random = SeededRandom(seed: c.seed)
    let count = 500
    // Spread over the aligned hour [t0, t0 + 1h), in order, with a trend and noise.
    let start = t0 - t0 % c.advance
    var times = (0..<count).map { _ in start + Int64.random(in: 0..<3_600_000, using: &random) }
    times.sort()
    let xs = times.map { t in
      c.offset + c.trend * Double(t - start) / 1000 + Double.random(in: -5...5, using: &random)
    }
    let source = FunctionTests.rule.replacingAll("WINDOW", "\(c.window)").replacingAll("LIMIT", "\(c.limit)")
      .replacingAll("COUNT", "\(count)")
    let feed = try Feeder(source)
    for (t, x) in zip(times, xs) { feed.send(#"{"dev":"a","x":\#(x),"s":"skip"}"#, at: t) }
    feed.send(#"{"dev":"a","x":null}"#, at: start + 3_600_000 * 3)
    let alerts = feed.alerts.filter { $0.state == .raised }
    try #require(alerts.count == 1)
    let alert = alerts[0]
    #expect(alert.windowStart == start)
    #expect(alert.windowEnd == start + 3_600_000)
    let ref = Reference(times: times, xs: xs, windowEnd: start + 3_600_000)
    func check(
      _ name: String, _ expected: Double?, tolerance: Double = 1e-9,
      sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) {
      guard let expected else {
        #expect(alert[name] == .null, "\(name)", sourceLocation: sourceLocation)
        return
      }
      guard case .number(let actual) = alert[name] else {
        Issue.record("\(name) is \(String(describing: alert[name]))", sourceLocation: sourceLocation)
        return
      }
      let scale = max(1, abs(expected))
      #expect(
        abs(actual - expected) <= tolerance * scale, "\(name): \(actual) vs \(expected)", sourceLocation: sourceLocation
      )
    }
    check("n", Double(count))
    check("nx", Double(count))
    check("s", xs.reduce(0, +))
    check("a", ref.mean)
    check("lo", xs.min()!)
    check("hi", xs.max()!)
    check("sd", ref.variance.squareRoot(), tolerance: 1e-7)
    check("var", ref.variance, tolerance: 1e-7)
    check("rms", ref.rms)
    check("p2p", xs.max()! - xs.min()!)
    check("cf", max(abs(xs.max()!), abs(xs.min()!)) / ref.rms)
    check("k", ref.kurtosis, tolerance: 1e-6)
    check("sk", ref.skewness, tolerance: 1e-5)
    check("p90", ref.percentile(0.9))
    check("p0", xs.min()!)
    check("f", ref.first)
    check("l", ref.last)
    check("d", ref.last - ref.first)
    check("r", (ref.last - ref.first) / (Double(times.last! - times.first!) / 1000))
    check("e", ref.ewma(0.3))
    check("z", (ref.last - ref.mean) / ref.variance.squareRoot(), tolerance: 1e-6)
    check("sl", ref.slope, tolerance: 1e-6)
    check("fc", ref.trend(atSeconds: Double(start + 3_600_000 + 60_000) / 1000), tolerance: 1e-7)
    check("ttt", ref.timeToThreshold(c.limit), tolerance: 1e-6)
  }

  /// Merging accumulators of random splits equals one pass, as panes and sessions rely on.
  @Test(arguments: [11, 12, 13] as [UInt64])
  func mergeEqualsSinglePass(_ seed: UInt64) {
    var random = SeededRandom(seed: seed)
    let features: InputFeatures = [
      .moments, .higherMoments, .extremes, .endpoints, .regression, .values, .anyEndpoints,
    ]
    let layout = AccumulatorLayout(features: [features], ewmaAlphas: [[0.1, 0.5]])
    let xs = (0..<300).map { _ in Double.random(in: -1000...1000, using: &random) }
    var whole = WindowAccumulator(layout: layout)
    var parts: [WindowAccumulator] = []
    var current = WindowAccumulator(layout: layout)
    for (i, x) in xs.enumerated() {
      var scalar = Scalar.number(x)
      withUnsafePointer(to: &scalar) { p in
        let values = UnsafeBufferPointer(start: p, count: 1)
        whole.add(values, time: t0 + Int64(i) * 1000, layout: layout)
        current.add(values, time: t0 + Int64(i) * 1000, layout: layout)
      }
      if Int.random(in: 0..<10, using: &random) == 0 {
        parts.append(current)
        current = WindowAccumulator(layout: layout)
      }
    }
    parts.append(current)
    var merged = WindowAccumulator(layout: layout)
    for p in parts { merged.merge(p, layout: layout) }
    let a = whole.inputs[0]
    let b = merged.inputs[0]
    #expect(a.n == b.n)
    #expect(abs(a.mean - b.mean) < 1e-9)
    #expect(abs(a.m2 - b.m2) / a.m2 < 1e-10)
    #expect(abs(a.m3 - b.m3) / abs(a.m3) < 1e-6)
    #expect(abs(a.m4 - b.m4) / a.m4 < 1e-10)
    #expect(abs(a.compensatedSum - b.compensatedSum) < 1e-9)
    #expect(abs(a.coMoment - b.coMoment) / abs(a.coMoment) < 1e-9)
    #expect(abs(a.m2Time - b.m2Time) / a.m2Time < 1e-12)
    #expect(a.min == b.min && a.max == b.max)
    #expect(a.firstNumber == b.firstNumber && a.lastNumber == b.lastNumber)
    #expect(a.anyFirst == b.anyFirst && a.anyLast == b.anyLast)
    #expect(a.values == b.values)
    for i in 0..<2 { #expect(abs(a.ewma[i].result! - b.ewma[i].result!) < 1e-9) }
  }

  /// Welford and compensated sums keep precision where naive sums of squares lose it all.
  @Test func numericallyStableForLargeOffsets() throws {
    let feed = try Feeder(
      "CREATE RULE v AS SELECT variance(x) AS v, sum(x) AS s FROM telemetry GROUP BY COUNT(4) RAISE ALERT 'i'")
    for (i, x) in [1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16].enumerated() {
      feed.send(#"{"x":\#(x)}"#, at: t0 + Int64(i))
    }
    #expect(feed.alerts.first?["v"] == .number(30))
    #expect(feed.alerts.first?["s"] == .number(4e9 + 40))
  }

  /// (payload values, expected count(x), expected avg(x)): nulls, strings and missing fields are skipped.
  @Test func nonNumbersAreSkipped() throws {
    let feed = try Feeder(
      "CREATE RULE v AS SELECT count(*) AS n, count(x) AS nx, avg(x) AS a, last(x) AS l FROM telemetry GROUP BY COUNT(5) RAISE ALERT 'i'"
    )
    for (i, x) in ["1", "null", "\"text\"", "3", "true"].enumerated() {
      feed.send(#"{"x":\#(x)}"#, at: t0 + Int64(i))
    }
    let alert = try #require(feed.alerts.first)
    #expect(alert["n"] == .number(5))
    #expect(alert["nx"] == .number(4))
    #expect(alert["a"] == .number(2))
    #expect(alert["l"] == .bool(true))
  }

  @Test func timeToThresholdCases() {
    func acc(_ points: [(Int64, Double)]) -> InputAccumulator {
      var a = InputAccumulator(ewmaAlphas: [])
      for (t, x) in points { a.addNumber(x, time: t, features: [.moments, .regression]) }
      return a
    }
    let rising = acc([(0, 1), (1000, 2), (2000, 3)])  // +1 per second, 3 at t=2s
    #expect(AggregateFunction.timeToThreshold(rising, limit: 10, windowEnd: 3000) == 6)
    #expect(AggregateFunction.timeToThreshold(rising, limit: 3.5, windowEnd: 3000) == 0)
    #expect(AggregateFunction.timeToThreshold(rising, limit: -5, windowEnd: 3000) == nil)
    let flat = acc([(0, 1), (1000, 1)])
    #expect(AggregateFunction.timeToThreshold(flat, limit: 5, windowEnd: 2000) == nil)
    let falling = acc([(0, 10), (1000, 8)])
    #expect(AggregateFunction.timeToThreshold(falling, limit: 2, windowEnd: 1000) == 3)
  }
}

extension String {
  func replacingAll(_ target: String, _ replacement: String) -> String {
    split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
  }
}
