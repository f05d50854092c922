#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Ends a walk: a problem (strict scans say which), or every path found (the lax scan stops there).
enum WalkStop: Error {
  case problem(JSONProblem)
  case done
}

/// One pass of ``JSONFields`` over one document.
///
/// Strict walks check every byte (grammar, escapes, UTF-8, depth) and go to the end; lax walks only find the
/// boundaries of what they skip (a string's closing quote, a number's last digit) and stop once every path is found.
struct JSONWalk {
  let p: UnsafePointer<UInt8>
  let end: Int
  let nodes: UnsafeBufferPointer<JSONFields.Node>
  let spans: UnsafeMutableBufferPointer<JSONSpan?>
  var remaining: Int
  let strict: Bool
  let maxDepth: Int
  var pos = 0

  init(
    _ bytes: UnsafeRawBufferPointer, nodes: UnsafeBufferPointer<JSONFields.Node>,
    spans: UnsafeMutableBufferPointer<JSONSpan?>, remaining: Int, strict: Bool
  ) {
    // An empty buffer may have no address; nothing is read from it then.
    p = (bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!).assumingMemoryBound(to: UInt8.self)
    end = bytes.count
    self.nodes = nodes
    self.spans = spans
    self.remaining = remaining
    self.strict = strict
    maxDepth = strict ? JSONFields.maximumDepth : JSONFields.findMaximumDepth
  }

  /// The whole document: one value with optional whitespace around it.
  mutating func document(requireObject: Bool) -> JSONProblem? {
    do throws(WalkStop) {
      skipSpace()
      if requireObject {
        guard pos < end, p[pos] == UInt8(ascii: "{") else {
          throw .problem(JSONProblem("not a JSON object (expected '{')", at: pos))
        }
      }
      let isObject = pos < end && p[pos] == UInt8(ascii: "{")
      try value(node: nodes.isEmpty ? -1 : 0, depth: 0)
      skipSpace()
      if pos != end {
        guard strict else { return nil }
        throw .problem(
          JSONProblem(isObject ? "unexpected text after the object" : "unexpected text after the value", at: pos))
      }
      return nil
    } catch {
      switch error {
      case .done: return nil
      case .problem(let problem): return problem
      }
    }
  }

  @inline(__always) mutating func skipSpace() {
    while pos < end {
      let c = p[pos]
      guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return }
      pos += 1
    }
  }

  @inline(__always) func fail(_ message: StaticString, at offset: Int? = nil) -> WalkStop {
    .problem(JSONProblem(message, at: offset ?? pos))
  }

  /// Records the value of trie node `node`, if a path ends there and it is the first such member.
  @inline(__always) mutating func record(_ node: Int, _ span: JSONSpan) throws(WalkStop) {
    guard node >= 0 else { return }
    let slot = nodes[node].slot
    guard slot >= 0, spans[slot] == nil else { return }
    spans[slot] = span
    remaining -= 1
    if remaining == 0 && !strict { throw .done }
  }

  /// A value for trie node `node` (-1: a value no path reaches); `depth` counts the containers around it.
  mutating func value(node: Int, depth: Int) throws(WalkStop) {
    guard depth < maxDepth else { throw fail(strict ? "nested deeper than 64 levels" : "nested too deep") }
    guard pos < end else { throw fail("expected a value") }
    let start = pos
    switch p[pos] {
    case UInt8(ascii: "\""):
      let escaped = try string()
      try record(node, JSONSpan(kind: .string, range: start + 1..<pos - 1, escaped: escaped))
    case UInt8(ascii: "{"):
      try object(node: node, depth: depth + 1)
      try record(node, JSONSpan(kind: .object, range: start..<pos))
    case UInt8(ascii: "["):
      try array(node: node, depth: depth + 1)
      try record(node, JSONSpan(kind: .array, range: start..<pos))
    case UInt8(ascii: "t"):
      try literal("true")
      try record(node, JSONSpan(kind: .bool, range: start..<pos))
    case UInt8(ascii: "f"):
      try literal("false")
      try record(node, JSONSpan(kind: .bool, range: start..<pos))
    case UInt8(ascii: "n"):
      try literal("null")
      try record(node, JSONSpan(kind: .null, range: start..<pos))
    default:
      var problem: JSONProblem?
      guard let next = JSONNumber.grammarEnd(p, pos, end, strict: strict, &problem) else {
        throw .problem(problem!)
      }
      pos = next
      try record(node, JSONSpan(kind: .number, range: start..<pos))
    }
  }

  @inline(__always) mutating func literal(_ word: StaticString) throws(WalkStop) {
    let n = word.utf8CodeUnitCount
    guard end - pos >= n, memcmp(p + pos, word.utf8Start, n) == 0 else { throw fail("invalid literal") }
    pos += n
  }

  /// Skips the string at `pos` (which holds `"`); returns whether it holds escapes. `pos` ends past the quote.
  mutating func string() throws(WalkStop) -> Bool {
    pos += 1
    var escaped = false
    guard strict else {
      while pos < end {
        let c = p[pos]
        if c == UInt8(ascii: "\"") {
          pos += 1
          return escaped
        }
        if c == UInt8(ascii: "\\") {
          escaped = true
          pos += 2
        } else {
          pos += 1
        }
      }
      throw fail("unterminated string", at: end)
    }
    while pos < end {
      let c = p[pos]
      if c == UInt8(ascii: "\"") {
        pos += 1
        return escaped
      }
      if c == UInt8(ascii: "\\") {
        escaped = true
        guard pos + 1 < end else { break }
        switch p[pos + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
          UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
          pos += 2
        case UInt8(ascii: "u"):
          guard pos + 6 <= end, (2..<6).allSatisfy({ JSONString.hexValue(p[pos + $0]) != nil }) else {
            throw fail("invalid \\u escape")
          }
          pos += 6
        default:
          throw fail("invalid escape")
        }
        continue
      }
      if c < 0x20 { throw fail("control character in string") }
      if c < 0x80 {
        pos += 1
        continue
      }
      let length = JSONString.utf8SequenceLength(UnsafeRawBufferPointer(start: p, count: end), at: pos)
      if length == 0 { throw fail("invalid UTF-8") }
      pos += length
    }
    throw fail("unterminated string", at: end)
  }

  mutating func object(node: Int, depth: Int) throws(WalkStop) {
    pos += 1
    skipSpace()
    if pos < end && p[pos] == UInt8(ascii: "}") {
      pos += 1
      return
    }
    while true {
      guard pos < end, p[pos] == UInt8(ascii: "\"") else { throw fail("expected a field name") }
      let keyStart = pos + 1
      let escaped = try string()
      let child = node >= 0 ? self.child(of: node, keyStart, pos - 1 - keyStart, escaped) : -1
      skipSpace()
      guard pos < end, p[pos] == UInt8(ascii: ":") else { throw fail("expected ':'") }
      pos += 1
      skipSpace()
      try value(node: child, depth: depth)
      skipSpace()
      guard pos < end else { throw fail("unterminated object") }
      let c = p[pos]
      pos += 1
      if c == UInt8(ascii: "}") { return }
      guard c == UInt8(ascii: ",") else { throw fail("expected ',' or '}'", at: pos - 1) }
      skipSpace()
    }
  }

  mutating func array(node: Int, depth: Int) throws(WalkStop) {
    pos += 1
    skipSpace()
    if pos < end && p[pos] == UInt8(ascii: "]") {
      pos += 1
      return
    }
    var index = 0
    // The indexes on a path are sorted: walk them alongside the elements.
    var cursor = 0
    let indexes = node >= 0 ? nodes[node].indexes : []
    while true {
      var child = -1
      if !indexes.isEmpty {
        while cursor < indexes.count, indexes[cursor] < index { cursor += 1 }
        if cursor < indexes.count, indexes[cursor] == index { child = Int(nodes[node].indexNodes[cursor]) }
      }
      try value(node: child, depth: depth)
      skipSpace()
      guard pos < end else { throw fail("unterminated array") }
      let c = p[pos]
      pos += 1
      if c == UInt8(ascii: "]") { return }
      guard c == UInt8(ascii: ",") else { throw fail("expected ',' or ']'", at: pos - 1) }
      skipSpace()
      index += 1
    }
  }

  /// The child of `node` for the member name at `keyStart` (`count` bytes), or -1.
  func child(of node: Int, _ keyStart: Int, _ count: Int, _ escaped: Bool) -> Int {
    guard !nodes[node].keys.isEmpty else { return -1 }
    if escaped {
      let decoded = JSONString.unescape(UnsafeRawBufferPointer(start: p + keyStart, count: count))
      return decoded.withUnsafeBytes { find(node, $0) }
    }
    return find(node, UnsafeRawBufferPointer(start: p + keyStart, count: count))
  }

  private func find(_ node: Int, _ member: UnsafeRawBufferPointer) -> Int {
    let keys = nodes[node].keys
    let count = member.count
    func order(_ i: Int) -> Int {
      if keys[i].count != count { return keys[i].count < count ? -1 : 1 }
      guard count > 0 else { return 0 }
      return keys[i].withUnsafeBytes { k in
        let c = memcmp(k.baseAddress!, member.baseAddress!, count)
        return c < 0 ? -1 : (c > 0 ? 1 : 0)
      }
    }
    if keys.count <= 8 {
      for i in keys.indices where order(i) == 0 { return Int(nodes[node].keyNodes[i]) }
      return -1
    }
    // A rule may read hundreds of members of one object and a payload hold thousands: no scan per member.
    var low = 0
    var high = keys.count
    while low < high {
      let middle = low + (high - low) / 2
      let o = order(middle)
      if o == 0 { return Int(nodes[node].keyNodes[middle]) }
      if o < 0 { low = middle + 1 } else { high = middle }
    }
    return -1
  }
}
