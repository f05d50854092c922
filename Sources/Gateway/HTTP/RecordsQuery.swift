/// The query of `GET /api/v1/topics/<topic>/records`, parsed from the raw query string by a total
/// function: any string the network can deliver gives either a query or a ``QueryError`` whose
/// message the handler returns with a 400.
///
/// - `limit`: a whole number; values outside 1...``maxLimit`` are clamped to it (default 100).
/// - `from`: `beginning` reads each partition from its start instead of its last records.
/// - `offsets`: `partition:offset,...` (partitions 0 to `Int32.max`, offsets 0 to `Int64.max`),
///   at most ``maxOffsetPairs`` pairs, each partition once.
/// - `wait`: whole seconds, clamped to 0...``maxWaitSeconds``: when the page would be empty, wait
///   up to that long for a record to arrive (a long poll; `weir tail --follow`).
///
/// Each parameter may appear once; unknown parameters are ignored, as HTTP clients expect.
struct RecordsQuery: Equatable, Sendable {
  static let defaultLimit = 100
  static let maxLimit = 10_000
  /// A topic has at most 10000 partitions.
  static let maxOffsetPairs = 10_000
  /// Longer query strings are refused before they are split.
  static let maxQueryBytes = 256 << 10
  /// The longest long poll.
  static let maxWaitSeconds = 30

  var limit = RecordsQuery.defaultLimit
  var offsets: [Int32: Int64] = [:]
  var fromBeginning = false
  var waitSeconds = 0

  init(
    limit: Int = RecordsQuery.defaultLimit, offsets: [Int32: Int64] = [:], fromBeginning: Bool = false,
    waitSeconds: Int = 0
  ) {
    self.limit = limit
    self.offsets = offsets
    self.fromBeginning = fromBeginning
    self.waitSeconds = waitSeconds
  }

  /// Parses `query` (what follows `?`, percent-encoded); nil is an empty query.
  init(query: String?) throws(QueryError) {
    let parameters = try Self.parameters(query)
    if let text = parameters["limit"] { limit = try Self.limit(text, in: 1...Self.maxLimit) }
    if let text = parameters["from"] {
      guard text == "beginning" else { throw QueryError("from: expected 'beginning', got '\(Self.quote(text))'") }
      fromBeginning = true
    }
    if let text = parameters["offsets"] { offsets = try Self.offsets(text) }
    if let text = parameters["wait"] {
      waitSeconds = try Self.whole("wait", text, in: 0...Self.maxWaitSeconds, unit: "seconds")
    }
  }

  /// The `limit` of `GET /api/v1/alerts`: default 50, clamped to 1...`maximum`.
  static func alertsLimit(query: String?, maximum: Int) throws(QueryError) -> Int {
    guard let text = try parameters(query)["limit"] else { return min(50, max(1, maximum)) }
    return try limit(text, in: 1...max(1, maximum))
  }

  /// The decoded parameters by name; a name given twice is an error.
  static func parameters(_ query: String?) throws(QueryError) -> [String: String] {
    guard let query, !query.isEmpty else { return [:] }
    guard query.utf8.count <= maxQueryBytes else {
      throw QueryError("the query is \(query.utf8.count) bytes; at most \(maxQueryBytes) are read")
    }
    var out: [String: String] = [:]
    for part in query.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
      let (rawName, rawValue) =
        if let eq = part.firstIndex(of: UInt8(ascii: "=")) {
          (part[..<eq], part[part.index(after: eq)...])
        } else {
          (part[...], part[part.endIndex...])
        }
      let name = try decode(rawName)
      guard ["limit", "from", "offsets", "wait"].contains(name) else { continue }
      guard out[name] == nil else { throw QueryError("\(name): given more than once") }
      out[name] = try decode(rawValue)
    }
    return out
  }

  /// Percent-decoding; the result must be UTF-8.
  static func decode(_ bytes: Substring.UTF8View.SubSequence) throws(QueryError) -> String {
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count)
    var i = bytes.startIndex
    while i < bytes.endIndex {
      let b = bytes[i]
      if b == UInt8(ascii: "%") {
        let h = bytes.index(after: i)
        guard h < bytes.endIndex, bytes.index(after: h) < bytes.endIndex,
          let hi = hex(bytes[h]), let lo = hex(bytes[bytes.index(after: h)])
        else { throw QueryError("malformed percent-encoding: '%' must be followed by two hex digits") }
        out.append(hi << 4 | lo)
        i = bytes.index(i, offsetBy: 3)
      } else {
        out.append(b)
        i = bytes.index(after: i)
      }
    }
    guard let text = String(validating: out, as: UTF8.self) else {
      throw QueryError("the query is not UTF-8 once decoded")
    }
    return text
  }

  private static func hex(_ b: UInt8) -> UInt8? {
    switch b {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): b - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): b - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): b - UInt8(ascii: "A") + 10
    default: nil
    }
  }

  /// A whole number clamped to `range`; one too long for `Int` clamps to the bound on its side.
  static func limit(_ text: String, in range: ClosedRange<Int>) throws(QueryError) -> Int {
    try whole("limit", text, in: range, unit: nil)
  }

  /// A whole number clamped to `range`, for parameter `name`.
  static func whole(_ name: String, _ text: String, in range: ClosedRange<Int>, unit: String?) throws(QueryError)
    -> Int
  {
    let negative = text.hasPrefix("-")
    let digits = negative || text.hasPrefix("+") ? text.dropFirst() : Substring(text)
    guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
      let what = unit.map { " of \($0)" } ?? ""
      throw QueryError(
        "\(name): expected a whole number\(what) (\(range.lowerBound) to \(range.upperBound)), got '\(quote(text))'")
    }
    guard let n = Int(digits) else { return negative ? range.lowerBound : range.upperBound }
    return min(max(negative ? -n : n, range.lowerBound), range.upperBound)
  }

  /// `partition:offset,...`; empty entries (`0:5,,1:7`, a trailing comma) are skipped.
  static func offsets(_ text: String) throws(QueryError) -> [Int32: Int64] {
    var out: [Int32: Int64] = [:]
    for part in text.split(separator: ",", omittingEmptySubsequences: true) {
      guard out.count < maxOffsetPairs else {
        throw QueryError("offsets: more than \(maxOffsetPairs) partitions (a topic has at most \(maxOffsetPairs))")
      }
      let pair = part.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
      guard pair.count == 2, isDigits(pair[0]), isDigits(pair[1]) else {
        throw QueryError(
          "offsets: expected partition:offset,... with whole numbers from 0, such as 0:120,1:98, got '\(quote(String(part)))'"
        )
      }
      guard let partition = Int32(pair[0]) else {
        throw QueryError("offsets: partition \(quote(String(pair[0]))) is past the largest, \(Int32.max)")
      }
      guard let offset = Int64(pair[1]) else {
        throw QueryError("offsets: offset \(quote(String(pair[1]))) is past the largest, \(Int64.max)")
      }
      guard out.updateValue(offset, forKey: partition) == nil else {
        throw QueryError("offsets: partition \(partition) is given more than once")
      }
    }
    return out
  }

  /// Digits only: a sign is not a partition or an offset.
  private static func isDigits(_ s: Substring) -> Bool {
    !s.isEmpty && s.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
  }

  /// Input echoed in a message, cut short.
  static func quote(_ s: String) -> String { s.count > 40 ? s.prefix(40) + "..." : s }
}

/// Why a query string was refused: the body of the 400.
struct QueryError: Error, Equatable, Sendable {
  var message: String
  init(_ message: String) { self.message = message }
}
