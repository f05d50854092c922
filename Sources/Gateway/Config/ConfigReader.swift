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
