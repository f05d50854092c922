/// Thrown inside the scanner when the payload is malformed (or the scan is done).
struct ScanStop: Error {}

/// One pass over one payload: fills the slots of the referenced paths, skipping everything else unread.
struct JSONScanner {
  let p: UnsafePointer<UInt8>
  let end: Int
  let nodes: UnsafeBufferPointer<JSONFieldExtractor.Node>
  let slots: UnsafeMutableBufferPointer<Scalar>
  let seen: UnsafeMutableBufferPointer<Bool>
  var remaining: Int
  var pos = 0
  /// Nesting depth; bounded so a hostile payload cannot exhaust the stack.
  var depth = 0
  static let maximumDepth = 256

  init(
    p: UnsafePointer<UInt8>, end: Int, nodes: UnsafeBufferPointer<JSONFieldExtractor.Node>,
    slots: UnsafeMutableBufferPointer<Scalar>, seen: UnsafeMutableBufferPointer<Bool>, remaining: Int
  ) {
    self.p = p
    self.end = end
    self.nodes = nodes
    self.slots = slots
    self.seen = seen
    self.remaining = remaining
  }

  @inline(__always) mutating func skipSpace() {
    while pos < end {
      let c = p[pos]
      guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return }
      pos += 1
    }
  }

  @inline(__always) func byte() throws(ScanStop) -> UInt8 {
    guard pos < end else { throw ScanStop() }
    return p[pos]
  }

  /// Reads a value for trie node `node` (-1: a value no rule looks at).
  mutating func value(node: Int) throws(ScanStop) {
    let c = try byte()
    if node >= 0 {
      let slot = nodes[node].slot
      switch c {
      case UInt8(ascii: "{"), UInt8(ascii: "["):
        // An object or array where a rule reads a field is that field's (null) value: found, first wins.
        if slot >= 0, !seen[slot] {
          seen[slot] = true
          remaining -= 1
          if remaining == 0 { throw ScanStop() }
        }
        if c == UInt8(ascii: "{") { try object(node: node) } else { try array(node: node) }
      default:
        let scalar = try primitive(c)
        if slot >= 0, !seen[slot] {
          seen[slot] = true
          slots[slot] = scalar
          remaining -= 1
          if remaining == 0 { throw ScanStop() }
        }
      }
      return
    }
    switch c {
    case UInt8(ascii: "{"): try object(node: -1)
    case UInt8(ascii: "["): try array(node: -1)
    case UInt8(ascii: "\""): _ = try string()
    default: _ = try primitive(c)
    }
  }

  mutating func primitive(_ c: UInt8) throws(ScanStop) -> Scalar {
    switch c {
    case UInt8(ascii: "\""):
      let (start, count, escaped) = try string()
      return .text(UnsafeRawPointer(p + start), count, escaped: escaped)
    case UInt8(ascii: "t"):
      try literal(JSONScanner.trueBytes)
      return .bool(true)
    case UInt8(ascii: "f"):
      try literal(JSONScanner.falseBytes)
      return .bool(false)
    case UInt8(ascii: "n"):
      try literal(JSONScanner.nullBytes)
      return .null
    default:
      return .number(try number())
    }
  }

  static let trueBytes = Array("true".utf8)
  static let falseBytes = Array("false".utf8)
  static let nullBytes = Array("null".utf8)

  mutating func literal(_ word: [UInt8]) throws(ScanStop) {
    guard end - pos >= word.count else { throw ScanStop() }
    for i in word.indices where p[pos + i] != word[i] { throw ScanStop() }
    pos += word.count
  }

  /// Returns the content's start, length and whether it holds escapes; `pos` ends past the closing quote.
  mutating func string() throws(ScanStop) -> (Int, Int, Bool) {
    pos += 1
    let start = pos
    var escaped = false
    while pos < end {
      let c = p[pos]
      if c == UInt8(ascii: "\"") {
        pos += 1
        return (start, pos - 1 - start, escaped)
      }
      if c == UInt8(ascii: "\\") {
        escaped = true
        pos += 2
      } else {
        pos += 1
      }
    }
    throw ScanStop()
  }

  mutating func object(node: Int) throws(ScanStop) {
    depth += 1
    defer { depth -= 1 }
    guard depth <= JSONScanner.maximumDepth else { throw ScanStop() }
    pos += 1
    skipSpace()
    if try byte() == UInt8(ascii: "}") {
      pos += 1
      return
    }
    while true {
      guard try byte() == UInt8(ascii: "\"") else { throw ScanStop() }
      let (start, count, escaped) = try string()
      let child = node >= 0 ? self.child(of: node, keyStart: start, count: count, escaped: escaped) : -1
      skipSpace()
      guard try byte() == UInt8(ascii: ":") else { throw ScanStop() }
      pos += 1
      skipSpace()
      try value(node: child)
      skipSpace()
      let c = try byte()
      pos += 1
      if c == UInt8(ascii: "}") { return }
      guard c == UInt8(ascii: ",") else { throw ScanStop() }
      skipSpace()
    }
  }

  mutating func array(node: Int) throws(ScanStop) {
    depth += 1
    defer { depth -= 1 }
    guard depth <= JSONScanner.maximumDepth else { throw ScanStop() }
    pos += 1
    skipSpace()
    if try byte() == UInt8(ascii: "]") {
      pos += 1
      return
    }
    var index = 0
    // The referenced indexes are sorted: walk them alongside the elements.
    var cursor = 0
    let indexes = node >= 0 ? nodes[node].indexes : []
    while true {
      var child = -1
      while cursor < indexes.count, indexes[cursor] < index { cursor += 1 }
      if cursor < indexes.count, indexes[cursor] == index { child = nodes[node].indexNodes[cursor] }
      try value(node: child)
      skipSpace()
      let c = try byte()
      pos += 1
      if c == UInt8(ascii: "]") { return }
      guard c == UInt8(ascii: ",") else { throw ScanStop() }
      skipSpace()
      index += 1
    }
  }

  func child(of node: Int, keyStart: Int, count: Int, escaped: Bool) -> Int {
    if escaped {
      let decoded = JSONFieldExtractor.unescape(UnsafeRawBufferPointer(start: p + keyStart, count: count))
      return decoded.withUnsafeBytes { find(node, $0) }
    }
    return find(node, UnsafeRawBufferPointer(start: p + keyStart, count: count))
  }

  /// The child of `node` for member name `member`, or -1.
  private func find(_ node: Int, _ member: UnsafeRawBufferPointer) -> Int {
    let keys = nodes[node].keys
    let count = member.count
    func order(_ i: Int) -> Int {
      if keys[i].count != count { return keys[i].count < count ? -1 : 1 }
      return keys[i].withUnsafeBytes { k in
        guard let a = k.baseAddress, let b = member.baseAddress else { return 0 }
        return Scalar.memcmpBytes(a, b, count)
      }
    }
    if keys.count <= 8 {
      for i in keys.indices where order(i) == 0 { return nodes[node].keyNodes[i] }
      return -1
    }
    // A rule may read hundreds of members of one object and a payload hold thousands: no scan per member.
    var low = 0
    var high = keys.count
    while low < high {
      let middle = low + (high - low) / 2
      let o = order(middle)
      if o == 0 { return nodes[node].keyNodes[middle] }
      if o < 0 { low = middle + 1 } else { high = middle }
    }
    return -1
  }
}
