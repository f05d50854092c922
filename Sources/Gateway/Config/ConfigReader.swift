import Yams

/// One thing wrong in a configuration file: where, which key, and what to do about it.
public struct ConfigProblem: Sendable, CustomStringConvertible, Equatable {
  public var file: String
  public var line: Int
  public var key: String
  public var message: String

  public var description: String { "\(file):\(line): \(key): \(message)" }
}

/// Walks a YAML mapping, reading typed values and collecting every problem with its line, so a
/// bad file is refused with all its errors at once. Keys nobody read are reported as unknown.
final class ConfigReader {
  let file: String
  private(set) var problems: [ConfigProblem] = []

  init(file: String) { self.file = file }

  func problem(_ node: Node?, _ key: String, _ message: String) {
    problems.append(ConfigProblem(file: file, line: (node?.mark?.line ?? 0), key: key, message: message))
  }

  /// A problem in another file (a rule file the configuration names).
  func extra(_ problem: ConfigProblem) { problems.append(problem) }

  /// A mapping's entries by key, each with its key node (for the line) and value.
  struct Section {
    let path: String
    let node: Node
    var entries: [String: (key: Node, value: Node)] = [:]
    var used: Set<String> = []
  }

  func section(_ node: Node?, path: String) -> Section? {
    guard let node else { return nil }
    guard let mapping = node.mapping else {
      problem(node, path, "expected a mapping of keys to values")
      return nil
    }
    var s = Section(path: path, node: node)
    for (k, v) in mapping {
      guard let name = k.string else {
        problem(k, path, "keys must be strings")
        continue
      }
      s.entries[name] = (k, v)
    }
    return s
  }

  /// Reports keys of `section` that no reader asked for.
  func finish(_ section: Section) {
    for (name, entry) in section.entries.sorted(by: { $0.key < $1.key }) where !section.used.contains(name) {
      let known = section.used.sorted().joined(separator: ", ")
      problem(entry.key, join(section.path, name), "unknown key" + (known.isEmpty ? "" : " (known here: \(known))"))
    }
  }

  func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : path + "." + key }

  func value(_ s: inout Section, _ key: String) -> Node? {
    s.used.insert(key)
    return s.entries[key]?.value
  }

  func string(_ s: inout Section, _ key: String) -> String? {
    guard let v = value(&s, key) else { return nil }
    guard let text = v.scalar?.string else {
      problem(v, join(s.path, key), "expected a text value")
      return nil
    }
    return text
  }

  func int(_ s: inout Section, _ key: String, range: ClosedRange<Int>) -> Int? {
    guard let text = string(&s, key) else { return nil }
    guard let n = Int(text), range.contains(n) else {
      problem(s.entries[key]?.value, join(s.path, key), "expected a whole number from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
      return nil
    }
    return n
  }

  func number(_ s: inout Section, _ key: String) -> Double? {
    guard let text = string(&s, key) else { return nil }
    guard let n = Double(text), n.isFinite else {
      problem(s.entries[key]?.value, join(s.path, key), "expected a number, got '\(text)'")
      return nil
    }
    return n
  }

  func bool(_ s: inout Section, _ key: String) -> Bool? {
    guard let text = string(&s, key) else { return nil }
    switch text.lowercased() {
    case "true", "yes", "on": return true
    case "false", "no", "off": return false
    default:
      problem(s.entries[key]?.value, join(s.path, key), "expected true or false, got '\(text)'")
      return nil
    }
  }

  func bytes(_ s: inout Section, _ key: String) -> Int64? {
    guard let text = string(&s, key) else { return nil }
    guard let n = ConfigValues.bytes(text) else {
      problem(s.entries[key]?.value, join(s.path, key), "expected a size such as 64MiB, 1GiB or 4096, got '\(text)'")
      return nil
    }
    return n
  }

  func milliseconds(_ s: inout Section, _ key: String) -> Int64? {
    guard let text = string(&s, key) else { return nil }
    guard let n = ConfigValues.milliseconds(text) else {
      problem(s.entries[key]?.value, join(s.path, key), "expected a duration such as 500ms, 30s, 10m, 2h or 7d, got '\(text)'")
      return nil
    }
    return n
  }

  func choice<T: RawRepresentable>(_ s: inout Section, _ key: String, _ type: T.Type, allowed: [T]) -> T?
  where T.RawValue == String {
    guard let text = string(&s, key) else { return nil }
    guard let v = T(rawValue: text) else {
      problem(
        s.entries[key]?.value, join(s.path, key),
        "expected one of \(allowed.map(\.rawValue).joined(separator: ", ")), got '\(text)'")
      return nil
    }
    return v
  }

  func sequence(_ s: inout Section, _ key: String) -> [Node]? {
    guard let v = value(&s, key) else { return nil }
    guard let seq = v.sequence else {
      problem(v, join(s.path, key), "expected a list")
      return nil
    }
    return Array(seq)
  }
}

extension ConfigReader {
  /// Decodes a section whose model is a `Codable` type of another module (serial ports, Modbus),
  /// reporting decoding errors at the line of the offending key and, as everywhere else, keys the
  /// type does not know (found by encoding the value again and comparing the keys).
  func decode<T: Codable>(_ type: T.Type, _ node: Node, path: String, docs: String) -> T? {
    let value: T
    do {
      value = try YAMLDecoder().decode(T.self, from: node)
    } catch let error as DecodingError {
      let (codingPath, message): ([any CodingKey], String) =
        switch error {
        case .keyNotFound(let key, let c): (c.codingPath + [key], "missing: this key is required")
        case .typeMismatch(let type, let c):
          (
            c.codingPath,
            "expected \(Self.describe(type)), got '\(Self.locate(node, c.codingPath)?.scalar?.string ?? "a \(Self.kind(Self.locate(node, c.codingPath)))")'"
          )
        case .valueNotFound(_, let c): (c.codingPath, "missing value: \(c.debugDescription)")
        case .dataCorrupted(let c): (c.codingPath, c.debugDescription)
        @unknown default: ([], "\(error)")
        }
      let keys = codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
      let at = Self.locate(node, codingPath) ?? node
      problem(at, keys.reduce(path) { $1.hasPrefix("[") ? $0 + $1 : $0 + "." + $1 }, message)
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

  private static func describe(_ type: Any.Type) -> String {
    switch type {
    case is Int.Type, is Int32.Type, is UInt8.Type, is UInt16.Type, is Int64.Type, is UInt32.Type: "a whole number"
    case is Double.Type, is Float.Type: "a number"
    case is Bool.Type: "true or false"
    case is String.Type: "a text value"
    default: "\(type)".hasPrefix("Array") ? "a list" : "a mapping of keys to values"
    }
  }

  private static func kind(_ node: Node?) -> String {
    if node?.mapping != nil { return "mapping" }
    if node?.sequence != nil { return "list" }
    return "value"
  }

  private static func locate(_ node: Node, _ path: [any CodingKey]) -> Node? {
    var current = node
    for key in path {
      if let i = key.intValue, let seq = current.sequence, i < seq.count {
        current = seq[i]
      } else if let next = current.mapping?[key.stringValue] {
        current = next
      } else {
        return current
      }
    }
    return current
  }

  private func reportUnknown(_ node: Node, known: Node, path: String, docs: String) {
    if let mapping = node.mapping {
      let knownMapping = known.mapping
      for (k, v) in mapping {
        guard let name = k.string else { continue }
        if let match = knownMapping?[name] {
          reportUnknown(v, known: match, path: join(path, name), docs: docs)
        } else if v != Node("null", .implicit), !(v.scalar?.string.isEmpty ?? false) {
          problem(k, join(path, name), "unknown key (\(docs) lists the keys of this section)")
        }
      }
    } else if let seq = node.sequence, let knownSeq = known.sequence {
      for (i, item) in seq.enumerated() where i < knownSeq.count {
        reportUnknown(item, known: knownSeq[i], path: path + "[\(i)]", docs: docs)
      }
    }
  }
}
