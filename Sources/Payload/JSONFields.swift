/// The one JSON reader: a set of paths into a document, found in one pass over the raw bytes without allocating.
///
/// The paths form a trie. A scan walks the document, descends only into members and elements on a path, skips
/// everything else, and records where each path's value is (``JSONSpan``); the first of duplicate members wins.
/// Two scans:
/// - ``validate(_:requireObject:)`` checks the whole document against RFC 8259 (UTF-8 included, nesting up to
///   64 levels) and finds the paths in the same pass: ingest validates a payload and picks its key and time fields
///   at once.
/// - ``find(_:)`` reads only as far as it must and stops once every path is found, trusting what it skipped: the
///   rule engine reads the fields its rules use from records ingest already checked.
///
/// A `JSONFields` holds the spans of its last scan: one owner at a time, like a scratch buffer.
public final class JSONFields {
  struct Node {
    var keys: [[UInt8]] = []
    var keyNodes: [Int32] = []
    var indexes: [Int] = []
    var indexNodes: [Int32] = []
    var slot = -1
  }

  /// Nesting a validating scan allows, counting the containers around the innermost value.
  public static let maximumDepth = 64
  /// Nesting ``find(_:)`` walks through: records of `raw` topics were never validated and may nest deeper than
  /// ``maximumDepth``; the bound keeps a hostile payload from exhausting the stack.
  public static let findMaximumDepth = 256

  private(set) var nodes: [Node] = [Node()]
  /// The number of paths (slots).
  public let count: Int
  let spans: UnsafeMutableBufferPointer<JSONSpan?>

  /// Slot `i` receives the value of `paths[i]`.
  public init(paths: [[JSONPathComponent]]) {
    count = paths.count
    spans = .allocate(capacity: max(1, paths.count))
    spans.initialize(repeating: nil)
    var children: [ChildKey: Int] = [:]
    for (slot, path) in paths.enumerated() {
      var node = 0
      for component in path {
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
          nodes[node].keyNodes.append(Int32(child))
        case .index(let index):
          nodes[node].indexes.append(index)
          nodes[node].indexNodes.append(Int32(child))
        }
        node = child
      }
      if nodes[node].slot < 0 { nodes[node].slot = slot }
    }
    // Sorted members and indexes: the scan binary-searches wide nodes and walks indexes with a cursor.
    for i in nodes.indices {
      let keyOrder = nodes[i].keys.indices.sorted { JSONFields.less(nodes[i].keys[$0], nodes[i].keys[$1]) }
      nodes[i].keys = keyOrder.map { nodes[i].keys[$0] }
      nodes[i].keyNodes = keyOrder.map { nodes[i].keyNodes[$0] }
      let indexOrder = nodes[i].indexes.indices.sorted { nodes[i].indexes[$0] < nodes[i].indexes[$1] }
      nodes[i].indexes = indexOrder.map { nodes[i].indexes[$0] }
      nodes[i].indexNodes = indexOrder.map { nodes[i].indexNodes[$0] }
    }
  }

  /// Top-level members by name: `JSONFields(keys: ["device", "ts"])`.
  public convenience init(keys: [String]) {
    self.init(paths: keys.map { [.key($0)] })
  }

  deinit { spans.deallocate() }

  private enum ChildKey: Hashable {
    case key(Int, [UInt8])
    case index(Int, Int)
  }

  /// Shorter first, then bytewise: the order the scan's binary search uses.
  static func less(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    a.count != b.count ? a.count < b.count : a.lexicographicallyPrecedes(b)
  }

  /// Where the last scan found path `slot`'s value; nil when the document lacks it.
  @inline(__always)
  public subscript(slot: Int) -> JSONSpan? { spans[slot] }

  /// nil when `bytes` is one well-formed JSON value (an object, when `requireObject`) with optional whitespace
  /// around it, else the first problem. Every path's value is recorded on the way.
  public func validate(_ bytes: UnsafeRawBufferPointer, requireObject: Bool = false) -> JSONProblem? {
    for i in 0..<count { spans[i] = nil }
    return nodes.withUnsafeBufferPointer { nodes in
      var walk = JSONWalk(bytes, nodes: nodes, spans: spans, remaining: count, strict: true)
      return walk.document(requireObject: requireObject)
    }
  }

  /// Finds the paths, reading only as far as needed: true when the scan reached every path or the document's end,
  /// false when the bytes were malformed before that (what lies past the last path is not looked at).
  public func find(_ bytes: UnsafeRawBufferPointer) -> Bool {
    for i in 0..<count { spans[i] = nil }
    guard count > 0 else { return true }
    return nodes.withUnsafeBufferPointer { nodes in
      var walk = JSONWalk(bytes, nodes: nodes, spans: spans, remaining: count, strict: false)
      return walk.document(requireObject: false) == nil
    }
  }

  /// One well-formed JSON value, checked without finding anything.
  public static func validate(_ bytes: UnsafeRawBufferPointer) -> JSONProblem? {
    var walk = JSONWalk(
      bytes, nodes: UnsafeBufferPointer(start: nil, count: 0), spans: UnsafeMutableBufferPointer(start: nil, count: 0),
      remaining: 0, strict: true)
    return walk.document(requireObject: false)
  }
}

extension JSONFields {
  /// The members of a valid JSON object, in order, with where each value sits in `object` (names decoded);
  /// empty when `object` is not one. Allocates: for reading records back, not for the hot path.
  public static func members(of object: UnsafeRawBufferPointer) -> [(name: String, value: JSONSpan)] {
    guard validate(object) == nil else { return [] }
    var walk = JSONWalk(
      object, nodes: UnsafeBufferPointer(start: nil, count: 0), spans: UnsafeMutableBufferPointer(start: nil, count: 0),
      remaining: 0, strict: true)
    var out: [(name: String, value: JSONSpan)] = []
    walk.skipSpace()
    guard walk.pos < walk.end, walk.p[walk.pos] == UInt8(ascii: "{") else { return [] }
    walk.pos += 1
    do throws(WalkStop) {
      while true {
        walk.skipSpace()
        guard walk.pos < walk.end, walk.p[walk.pos] == UInt8(ascii: "\"") else { break }
        let nameStart = walk.pos + 1
        let escaped = try walk.string()
        let name = JSONString.text(
          UnsafeRawBufferPointer(start: walk.p + nameStart, count: walk.pos - 1 - nameStart), escaped: escaped)
        walk.skipSpace()
        walk.pos += 1  // ':'
        walk.skipSpace()
        let start = walk.pos
        let first = walk.p[start]
        var valueEscaped = false
        if first == UInt8(ascii: "\"") { valueEscaped = try walk.string() } else { try walk.value(node: -1, depth: 1) }
        let kind: JSONSpan.Kind
        var range = start..<walk.pos
        switch first {
        case UInt8(ascii: "\""):
          kind = .string
          range = start + 1..<walk.pos - 1
        case UInt8(ascii: "{"): kind = .object
        case UInt8(ascii: "["): kind = .array
        case UInt8(ascii: "t"), UInt8(ascii: "f"): kind = .bool
        case UInt8(ascii: "n"): kind = .null
        default: kind = .number
        }
        out.append((name, JSONSpan(kind: kind, range: range, escaped: valueEscaped)))
        walk.skipSpace()
        guard walk.pos < walk.end, walk.p[walk.pos] == UInt8(ascii: ",") else { break }
        walk.pos += 1
      }
    } catch {
      return []
    }
    return out
  }
}
