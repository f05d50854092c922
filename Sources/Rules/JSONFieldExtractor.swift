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
      var scanner = JSONScanner(p: base.assumingMemoryBound(to: UInt8.self), end: payload.count, nodes: nodes,
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
