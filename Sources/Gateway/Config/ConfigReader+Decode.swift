import Foundation
import Ingest
import Yams

extension ConfigReader {
  /// Decodes a section whose model is a `Codable` type of another module (serial ports, Modbus),
  /// reporting decoding errors at the line of the offending key and, as everywhere else, keys the
  /// type does not know (found by encoding the value again and comparing the keys).
  func decode<T: Codable>(_ type: T.Type, _ node: Node, path: String, docs: String) -> T? {
    if let (at, text, key) = oversizedBase60(node, path: path) {
      problem(
        at, key,
        "'\(text.prefix(80))' reads as a base-60 number (YAML 1.1 sexagesimal) too large for any setting; quote it if it is text"
      )
      return nil
    }
    let value: T
    do {
      value = try YAMLDecoder().decode(T.self, from: node)
    } catch let error as DecodingError {
      let (codingPath, message): ([any CodingKey], String) =
        switch error {
        case .keyNotFound(let key, let c): (c.codingPath + [key], "missing: this key is required")
        case .typeMismatch(let type, let c):
          (c.codingPath, "expected \(Self.describe(type)), got \(Self.shown(Self.locate(node, c.codingPath)))")
        case .valueNotFound(_, let c): (c.codingPath, "missing value: \(c.debugDescription)")
        case .dataCorrupted(let c): (c.codingPath, c.debugDescription)
        @unknown default: ([], "\(error)")
        }
      let keys = codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
      problem(Self.locate(node, codingPath), keys.reduce(path) { $1.hasPrefix("[") ? $0 + $1 : $0 + "." + $1 }, message)
      return nil
    } catch {
      problem(node, path, "\(error)")
      return nil
    }
    if let known = try? Yams.compose(yaml: YAMLEncoder().encode(value)) {
      reportUnknown(node, known: known, path: path, docs: docs)
    }
    return value
  }

  /// `'fast'` for a text value, else what the node is.
  private static func shown(_ node: Node) -> String {
    if case .scalar(let s) = node, !s.string.isEmpty { return "'\(s.string.prefix(80))'" }
    return kind(node)
  }

  private static func describe(_ type: Any.Type) -> String {
    switch type {
    case is Int.Type, is Int32.Type, is UInt8.Type, is UInt16.Type, is Int64.Type, is UInt32.Type: "a whole number"
    case is Double.Type, is Float.Type: "a number"
    case is Bool.Type: "true or false"
    case is String.Type: "a text value"
    default: "\(type)".hasPrefix("Array") ? "a list" : "a mapping of keys to values"
    }
  }

  /// The node at `path`, or the deepest one on the way that exists (so there is always a line).
  private static func locate(_ node: Node, _ path: [any CodingKey]) -> Node {
    var current = node
    for key in path {
      if let i = key.intValue, let seq = current.sequence, seq.indices.contains(i) {
        current = seq[i]
      } else if let next = current.mapping?.first(where: { $0.key.scalar?.string == key.stringValue })?.value {
        current = next
      } else {
        return current
      }
    }
    return current
  }

  /// Yams reads a plain scalar such as `1:30` as a base-60 integer with unchecked arithmetic, so
  /// one with many or large parts traps while decoding. Finds such a scalar, with its text and
  /// key path.
  func oversizedBase60(_ node: Node, path: String) -> (Node, String, String)? {
    switch node {
    case .scalar(let s):
      guard s.style == .any || s.style == .plain, s.string.contains(":") else { return nil }
      var text = Substring(s.string.replacingOccurrences(of: "_", with: ""))
      if text.hasPrefix("-") || text.hasPrefix("+") { text = text.dropFirst() }
      var value: Int64 = 0
      var base: Int64 = 1
      for part in text.split(separator: ":", omittingEmptySubsequences: false).reversed() {
        // Yams parses each part with Int(_:radix: 10); a part that is not a number makes the
        // whole value text, which is safe.
        guard let digit = Int64(part, radix: 10) else { return nil }
        let (scaled, o1) = digit.multipliedReportingOverflow(by: base)
        let (sum, o2) = value.addingReportingOverflow(scaled)
        let (nextBase, o3) = base.multipliedReportingOverflow(by: 60)
        if o1 || o2 || o3 { return (node, s.string, path) }
        value = sum
        base = nextBase
      }
      return nil
    case .mapping(let m):
      for (k, v) in m {
        let name = join(path, k.scalar?.string ?? "?")
        if let found = oversizedBase60(k, path: name) ?? oversizedBase60(v, path: name) { return found }
      }
      return nil
    case .sequence(let seq):
      for (i, item) in seq.enumerated() {
        if let found = oversizedBase60(item, path: path + "[\(i)]") { return found }
      }
      return nil
    default:
      return nil
    }
  }

  /// Reports the keys of `node` that `known` (the decoded value encoded again) lacks. Known keys
  /// are looked up in a dictionary: Yams' mapping subscript is a linear search.
  private func reportUnknown(_ node: Node, known: Node, path: String, docs: String) {
    if let mapping = node.mapping {
      var knownKeys: [String: Node] = [:]
      for (k, v) in known.mapping ?? Node.Mapping([]) {
        if let name = k.scalar?.string, knownKeys[name] == nil { knownKeys[name] = v }
      }
      for (k, v) in mapping {
        guard let name = k.scalar?.string else { continue }
        if let match = knownKeys[name] {
          reportUnknown(v, known: match, path: join(path, name), docs: docs)
        } else if let replacement = DeprecatedKeys.replacements[name], knownKeys[replacement] != nil {
          warning(
            k, join(path, name),
            "deprecated: write \(replacement) with a unit (e.g. \(replacement): \(v.scalar?.string ?? "500")ms); the _ms keys are read for one more release"
          )
        } else if !Self.isNull(v) {
          problem(k, join(path, name), "unknown key (\(docs) lists the keys of this section)")
        }
      }
    } else if let seq = node.sequence, let knownSeq = known.sequence {
      for (i, item) in seq.enumerated() where i < knownSeq.count {
        reportUnknown(item, known: knownSeq[i], path: path + "[\(i)]", docs: docs)
      }
    }
  }

  /// `key:`, `key: ~` or `key: null`: a key left empty, as the encoder leaves optional settings out.
  private static func isNull(_ node: Node) -> Bool {
    guard case .scalar(let s) = node, s.style == .any || s.style == .plain else { return false }
    return ["", "~", "null", "Null", "NULL"].contains(s.string)
  }
}
