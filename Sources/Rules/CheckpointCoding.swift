import Payload

/// Writes the engine's checkpoint: little-endian integers, IEEE-754 bit patterns for doubles (so every value
/// restores bit for bit), and length-prefixed bytes. The same state always gives the same bytes.
struct CheckpointWriter {
  private(set) var bytes: [UInt8] = []

  mutating func int(_ v: Int64) {
    withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
  }

  mutating func int(_ v: Int) { int(Int64(v)) }

  mutating func double(_ v: Double) { int(Int64(bitPattern: v.bitPattern)) }

  mutating func bool(_ v: Bool) { bytes.append(v ? 1 : 0) }

  mutating func bytes(_ v: some Collection<UInt8>) {
    int(v.count)
    bytes.append(contentsOf: v)
  }

  mutating func string(_ v: String) { bytes(Array(v.utf8)) }
}

/// Reads what `CheckpointWriter` wrote; every read checks bounds and throws on truncated or corrupt input.
///
/// A damaged checkpoint (any bytes at all) must give an error, never a trap or a huge allocation: counts are
/// bounded by the bytes that remain, and times and counters by what a live engine can produce.
struct CheckpointReader {
  let data: [UInt8]
  var position = 0

  /// Event times (and window bounds derived from them) in restored state: live ones stay within
  /// ±(`RuleEngine.timestampLimit` + a few maximum durations), so window arithmetic cannot overflow.
  static let timeLimit: Int64 = 1 << 61
  /// Record counts in restored state; a live engine would need thousands of years to reach one.
  static let counterLimit: Int64 = 1 << 48

  init(_ data: [UInt8]) {
    self.data = data
  }

  var isAtEnd: Bool { position == data.count }

  var remaining: Int { data.count - position }

  func error(_ what: String) -> CheckpointError {
    CheckpointError(message: "\(what) at byte \(position)")
  }

  mutating func int() throws(CheckpointError) -> Int64 {
    guard remaining >= 8 else { throw error("checkpoint ends early") }
    var v: UInt64 = 0
    for i in 0..<8 { v |= UInt64(data[position + i]) << (8 * UInt64(i)) }
    position += 8
    return Int64(bitPattern: v)
  }

  /// A length or element count; each element takes at least `bytesEach` bytes, so the count cannot exceed what
  /// the remaining bytes could hold (nothing is reserved for elements that are not there).
  mutating func count(_ limit: Int = 1 << 31, bytesEach: Int = 1) throws(CheckpointError) -> Int {
    let v = try int()
    guard v >= 0, v <= Int64(limit), v <= Int64(remaining / max(1, bytesEach)) else {
      throw CheckpointError(message: "checkpoint has an impossible length \(v) at byte \(position - 8)")
    }
    return Int(v)
  }

  /// A record counter: 0 up to `counterLimit`.
  mutating func counter() throws(CheckpointError) -> Int64 {
    let v = try int()
    guard v >= 0, v <= CheckpointReader.counterLimit else {
      throw CheckpointError(message: "checkpoint has an impossible count \(v) at byte \(position - 8)")
    }
    return v
  }

  /// An event time or window bound, or `sentinel` (the value that means none).
  mutating func time(or sentinel: Int64? = nil) throws(CheckpointError) -> Int64 {
    let v = try int()
    guard v == sentinel || (v >= -CheckpointReader.timeLimit && v <= CheckpointReader.timeLimit) else {
      throw CheckpointError(message: "checkpoint has an impossible time \(v) at byte \(position - 8)")
    }
    return v
  }

  mutating func double() throws(CheckpointError) -> Double { Double(bitPattern: UInt64(bitPattern: try int())) }

  /// A double that a live engine only ever holds finite.
  mutating func finite() throws(CheckpointError) -> Double {
    let v = try double()
    guard v.isFinite else {
      throw CheckpointError(message: "checkpoint has a non-finite value at byte \(position - 8)")
    }
    return v
  }

  mutating func bool() throws(CheckpointError) -> Bool {
    guard position < data.count else { throw error("checkpoint ends early") }
    position += 1
    return data[position - 1] != 0
  }

  mutating func bytes() throws(CheckpointError) -> [UInt8] {
    let n = try count()
    defer { position += n }
    return Array(data[position..<position + n])
  }

  mutating func string() throws(CheckpointError) -> String { String(decoding: try bytes(), as: UTF8.self) }
}

/// A checkpoint that cannot be restored.
public struct CheckpointError: Error, Sendable, CustomStringConvertible {
  /// What was wrong with it.
  public var message: String

  /// Creates an error.
  public init(message: String) {
    self.message = message
  }

  public var description: String { "cannot restore rule checkpoint: \(message)" }
}

extension WindowAccumulator {
  func encode(into w: inout CheckpointWriter) {
    w.int(records)
    w.int(inputs.count)
    for input in inputs { input.encode(into: &w) }
  }

  init(from r: inout CheckpointReader, layout: AccumulatorLayout) throws(CheckpointError) {
    self.init(layout: layout)
    records = try r.counter()
    guard try r.count() == inputs.count else {
      throw CheckpointError(message: "accumulator shape does not match the rule")
    }
    for i in inputs.indices { inputs[i] = try InputAccumulator(from: &r, alphas: layout.ewmaAlphas[i]) }
  }
}

extension InputAccumulator {
  func encode(into w: inout CheckpointWriter) {
    w.int(nonNull)
    w.int(n)
    for d in [sum, sumCompensation, mean, m2, m3, m4, min, max] { w.double(d) }
    w.int(firstTime)
    w.double(firstNumber)
    w.int(lastTime)
    w.double(lastNumber)
    w.int(origin)
    for d in [meanTime, m2Time, coMoment] { w.double(d) }
    w.int(values.count)
    for v in values { w.double(v) }
    w.int(anyFirstTime)
    anyFirst.encode(into: &w)
    w.int(anyLastTime)
    anyLast.encode(into: &w)
    w.int(ewma.count)
    for e in ewma {
      for d in [e.alpha, e.first, e.weighted, e.decay] { w.double(d) }
      w.int(e.count)
    }
  }

  /// Reads one input's statistics; `alphas` are the rule's EWMA factors for it, which the bytes must repeat.
  init(from r: inout CheckpointReader, alphas: [Double]) throws(CheckpointError) {
    self.init(ewmaAlphas: [])
    nonNull = try r.counter()
    n = try r.counter()
    sum = try r.double()
    sumCompensation = try r.double()
    mean = try r.double()
    m2 = try r.double()
    m3 = try r.double()
    m4 = try r.double()
    min = try r.double()
    max = try r.double()
    firstTime = try r.time(or: Int64.max)
    firstNumber = try r.double()
    lastTime = try r.time(or: Int64.min)
    lastNumber = try r.double()
    origin = try r.time(or: Int64.min)
    meanTime = try r.double()
    m2Time = try r.double()
    coMoment = try r.double()
    let valueCount = try r.count(bytesEach: 8)
    values.reserveCapacity(valueCount)
    for _ in 0..<valueCount { values.append(try r.finite()) }
    anyFirstTime = try r.time(or: Int64.max)
    anyFirst = try Value(from: &r)
    anyLastTime = try r.time(or: Int64.min)
    anyLast = try Value(from: &r)
    guard try r.count(bytesEach: 40) == alphas.count else {
      throw CheckpointError(message: "an ewma() state does not match the rule at byte \(r.position)")
    }
    for alpha in alphas {
      var e = EWMAState(alpha: try r.double())
      guard e.alpha.bitPattern == alpha.bitPattern else {
        throw CheckpointError(message: "an ewma() factor does not match the rule at byte \(r.position)")
      }
      e.first = try r.double()
      e.weighted = try r.double()
      e.decay = try r.double()
      e.count = try r.counter()
      ewma.append(e)
    }
  }
}
