/// Finds the fields a rule set references in a JSON payload, scanning the raw bytes once.
///
/// The referenced paths form a trie; the scanner walks the payload, descends only into members on a referenced
/// path, skips everything else without decoding it, and stops as soon as every referenced field has been found.
/// Numbers are parsed from the bytes (no String is made), text is returned as a view into the payload.
struct JSONFieldExtractor {
  struct Node {
    var keys: [[UInt8]] = []
    var keyNodes: [Int] = []
    var indexes: [Int] = []
    var indexNodes: [Int] = []
    var slot = -1
  }

  /// Which slots the current scan has filled: the first of duplicate members wins, and `remaining` counts each
  /// field once, so `{"a":1,"a":2,"b":3}` still finds `b`.
  final class Seen {
    let flags: UnsafeMutableBufferPointer<Bool>

    init(count: Int) {
      flags = .allocate(capacity: max(1, count))
      flags.initialize(repeating: false)
    }

    deinit { flags.deallocate() }
  }

  private(set) var nodes: [Node] = [Node()]
  let slotCount: Int
  private let seen: Seen

  /// Builds the trie; slot `i` receives the value of `paths[i]`.
  init(paths: [FieldPath]) {
    slotCount = paths.count
    seen = Seen(count: paths.count)
    var children: [ChildKey: Int] = [:]
    for (slot, path) in paths.enumerated() {
      var node = 0
      for component in path.components {
        let key: ChildKey
        switch component {
        case .key(let name): key = .key(node, Array(name.utf8))
        case .index(let index): key = .index(node, index)
        }
        if let child = children[key] {
          node = child
          continue
        }
        nodes.append(Node())
        let child = nodes.count - 1
        children[key] = child
        switch component {
        case .key(let name):
          nodes[node].keys.append(Array(name.utf8))
          nodes[node].keyNodes.append(child)
        case .index(let index):
          nodes[node].indexes.append(index)
          nodes[node].indexNodes.append(child)
        }
        node = child
      }
      nodes[node].slot = slot
    }
    // Sorted members and indexes: the scanner binary-searches wide nodes and walks indexes with a cursor.
    for i in nodes.indices {
      let keyOrder = nodes[i].keys.indices.sorted { JSONFieldExtractor.less(nodes[i].keys[$0], nodes[i].keys[$1]) }
      nodes[i].keys = keyOrder.map { nodes[i].keys[$0] }
      nodes[i].keyNodes = keyOrder.map { nodes[i].keyNodes[$0] }
      let indexOrder = nodes[i].indexes.indices.sorted { nodes[i].indexes[$0] < nodes[i].indexes[$1] }
      nodes[i].indexes = indexOrder.map { nodes[i].indexes[$0] }
      nodes[i].indexNodes = indexOrder.map { nodes[i].indexNodes[$0] }
    }
  }

  private enum ChildKey: Hashable {
    case key(Int, [UInt8])
    case index(Int, Int)
  }

  /// Shorter first, then bytewise: the order the scanner's binary search uses.
  static func less(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    a.count != b.count ? a.count < b.count : a.lexicographicallyPrecedes(b)
  }

  /// Sets every slot to the field's value, or `.null` where the payload lacks it.
  ///
  /// Returns false if the payload is not well-formed JSON in the part that was scanned.
  func extract(_ payload: UnsafeRawBufferPointer, into slots: UnsafeMutableBufferPointer<Scalar>) -> Bool {
    for i in 0..<slotCount {
      slots[i] = .null
      seen.flags[i] = false
    }
    guard slotCount > 0 else { return true }
    guard let base = payload.baseAddress, payload.count > 0 else { return false }
    return nodes.withUnsafeBufferPointer { nodes in
      var scanner = Scanner(p: base.assumingMemoryBound(to: UInt8.self), end: payload.count, nodes: nodes,
        slots: slots, seen: seen.flags, remaining: slotCount)
      scanner.skipSpace()
      guard scanner.pos < scanner.end else { return false }
      do {
        try scanner.value(node: 0)
        return true
      } catch {
        return scanner.remaining == 0
      }
    }
  }

  /// Decodes JSON string escapes; invalid escapes are kept as written.
  static func unescape(_ raw: UnsafeRawBufferPointer) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(raw.count)
    var i = 0
    func hex(_ at: Int) -> UInt32? {
      guard at + 4 <= raw.count else { return nil }
      var v: UInt32 = 0
      for k in 0..<4 {
        let c = raw[at + k]
        let d: UInt8
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
        default: return nil
        }
        v = v << 4 | UInt32(d)
      }
      return v
    }
    while i < raw.count {
      let c = raw[i]
      guard c == UInt8(ascii: "\\"), i + 1 < raw.count else {
        out.append(c)
        i += 1
        continue
      }
      let e = raw[i + 1]
      i += 2
      switch e {
      case UInt8(ascii: "n"): out.append(0x0A)
      case UInt8(ascii: "t"): out.append(0x09)
      case UInt8(ascii: "r"): out.append(0x0D)
      case UInt8(ascii: "b"): out.append(0x08)
      case UInt8(ascii: "f"): out.append(0x0C)
      case UInt8(ascii: "u"):
        guard var code = hex(i) else {
          out.append(contentsOf: [UInt8(ascii: "\\"), e])
          continue
        }
        i += 4
        if code >= 0xD800, code < 0xDC00, i + 6 <= raw.count, raw[i] == UInt8(ascii: "\\"),
          raw[i + 1] == UInt8(ascii: "u"), let low = hex(i + 2), low >= 0xDC00, low < 0xE000
        {
          code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
          i += 6
        }
        out.append(contentsOf: Array(String(Unicode.Scalar(code) ?? "\u{FFFD}").utf8))
      default: out.append(e)
      }
    }
    return out
  }
}

/// Thrown inside the scanner when the payload is malformed (or the scan is done).
private struct ScanStop: Error {}

private struct Scanner {
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
      try literal(Scanner.trueBytes)
      return .bool(true)
    case UInt8(ascii: "f"):
      try literal(Scanner.falseBytes)
      return .bool(false)
    case UInt8(ascii: "n"):
      try literal(Scanner.nullBytes)
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
    guard depth <= Scanner.maximumDepth else { throw ScanStop() }
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
    guard depth <= Scanner.maximumDepth else { throw ScanStop() }
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

  mutating func number() throws(ScanStop) -> Double {
    let start = pos
    var negative = false
    if p[pos] == UInt8(ascii: "-") {
      negative = true
      pos += 1
    }
    var mantissa: UInt64 = 0
    var digits = 0
    var exponent = 0
    while pos < end, p[pos] &- 0x30 < 10 {
      if digits < 19 {
        mantissa = mantissa &* 10 &+ UInt64(p[pos] &- 0x30)
        if mantissa != 0 { digits += 1 }
      } else {
        exponent += 1
      }
      pos += 1
    }
    guard pos > start + (negative ? 1 : 0) else { throw ScanStop() }
    if pos < end, p[pos] == UInt8(ascii: ".") {
      pos += 1
      let fracStart = pos
      while pos < end, p[pos] &- 0x30 < 10 {
        if digits < 19 {
          mantissa = mantissa &* 10 &+ UInt64(p[pos] &- 0x30)
          if mantissa != 0 { digits += 1 }
          exponent -= 1
        }
        pos += 1
      }
      guard pos > fracStart else { throw ScanStop() }
    }
    if pos < end, p[pos] | 0x20 == UInt8(ascii: "e") {
      pos += 1
      var expNegative = false
      if pos < end, p[pos] == UInt8(ascii: "-") || p[pos] == UInt8(ascii: "+") {
        expNegative = p[pos] == UInt8(ascii: "-")
        pos += 1
      }
      var e = 0
      let expStart = pos
      while pos < end, p[pos] &- 0x30 < 10 {
        if e < 100_000 { e = e * 10 + Int(p[pos] &- 0x30) }
        pos += 1
      }
      guard pos > expStart else { throw ScanStop() }
      exponent += expNegative ? -e : e
    }
    // Clinger's fast path is exact when the mantissa and the power of ten are both exact doubles.
    if digits <= 15, exponent >= -22, exponent <= 22 {
      var v = Double(mantissa)
      if exponent < 0 { v /= Scanner.powers[-exponent] } else { v *= Scanner.powers[exponent] }
      return negative ? -v : v
    }
    return Scanner.slowParse(p + start, pos - start)
  }

  static let powers: [Double] = (0...22).map { e in
    var v = 1.0
    for _ in 0..<e { v *= 10 }
    return v
  }

  /// Rare numbers (more than 15 significant digits, huge exponents) go through the standard library's parser.
  static func slowParse(_ p: UnsafePointer<UInt8>, _ count: Int) -> Double {
    let bytes = UnsafeBufferPointer(start: p, count: count)
    let text = count <= 1100 ? String(decoding: bytes, as: UTF8.self) : shortened(bytes)
    return Double(text) ?? .nan
  }

  /// The same number with at most 800 significant digits, a final 1 standing for any non-zero digits dropped:
  /// it rounds to the same double (a halfway point between doubles has at most 767 significant digits), and the
  /// standard parser's work stays bounded however long a payload's digits run.
  static func shortened(_ b: UnsafeBufferPointer<UInt8>) -> String {
    let zero = UInt8(ascii: "0")
    var out: [UInt8] = []
    var i = 0
    if b[0] == UInt8(ascii: "-") {
      out.append(b[0])
      i = 1
    }
    out += Array("0.".utf8)
    var significant = 0
    var started = false
    var sticky = false
    // The number is 0.DDD... × 10^scale, D the significant digits.
    var scale = 0
    func digit(_ d: UInt8) {
      if significant < 800 {
        out.append(d)
        significant += 1
      } else if d != zero {
        sticky = true
      }
    }
    while i < b.count, Lexer.isDigit(b[i]) {
      if started || b[i] != zero {
        started = true
        scale += 1
        digit(b[i])
      }
      i += 1
    }
    if i < b.count, b[i] == UInt8(ascii: ".") {
      i += 1
      while i < b.count, Lexer.isDigit(b[i]) {
        if started || b[i] != zero {
          started = true
          digit(b[i])
        } else {
          scale -= 1
        }
        i += 1
      }
    }
    guard started else { return out.first == UInt8(ascii: "-") ? "-0" : "0" }
    if sticky { out.append(UInt8(ascii: "1")) }
    var exponent = 0
    if i < b.count, b[i] | 0x20 == UInt8(ascii: "e") {
      i += 1
      var negative = false
      if i < b.count, b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+") {
        negative = b[i] == UInt8(ascii: "-")
        i += 1
      }
      while i < b.count, Lexer.isDigit(b[i]) {
        if exponent < 1_000_000 { exponent = exponent * 10 + Int(b[i] - zero) }
        i += 1
      }
      if negative { exponent = -exponent }
    }
    return String(decoding: out, as: UTF8.self) + "e\(scale + exponent)"
  }
}
