import Foundation
import WeirCore
import Yams

/// Walks a YAML mapping, reading typed values and collecting every problem with its line, so a
/// bad file is refused with all its errors at once. Keys nobody read are reported as unknown.
final class ConfigReader {
  let file: String
  private(set) var problems: [ConfigProblem] = []
  /// What the file should change but that still works (deprecated keys), with its line.
  private(set) var warnings: [ConfigProblem] = []

  init(file: String) { self.file = file }

  func problem(_ node: Node?, _ key: String, _ message: String) {
    problems.append(ConfigProblem(file: file, line: node?.mark?.line ?? 0, key: key, message: message))
  }

  /// Adds problems found in another file the configuration names (a password or ACL file), at
  /// their own file and line.
  func add(_ other: [ConfigProblem]) { problems += other }

  /// Reports a model's own checks (``ConfigValidating/problems()``) on the value read from `node`
  /// at `path`: each at the line of its key below `node` (``node(at:in:)``), with the key path
  /// `path.key` (`path` alone for an issue without a key).
  func report(_ issues: [ConfigIssue], in node: Node, path: String) {
    for issue in issues { problem(self.node(at: issue.key, in: node), join(path, issue.key), issue.message) }
  }

  /// The node of the key path `key` (`slaves[0].registers[2].type`) below `node`, or of the
  /// deepest entry on the way that the file has (a key left out); `node` itself for an empty key.
  func node(at key: String, in node: Node) -> Node {
    var at = node
    for part in key.split(separator: ".") {
      let pieces = part.split(separator: "[")
      guard let name = pieces.first,
        let next = at.mapping?.first(where: { $0.key.scalar?.string == String(name) })?.value
      else { return at }
      at = next
      for index in pieces.dropFirst() {
        guard let i = Int(index.dropLast()), let seq = at.sequence, seq.indices.contains(i) else { return at }
        at = seq[i]
      }
    }
    return at
  }

  /// A problem in another file (a rule file the configuration names).
  func extra(_ problem: ConfigProblem) { problems.append(problem) }

  func warning(_ node: Node?, _ key: String, _ message: String) {
    warnings.append(ConfigProblem(file: file, line: (node?.mark?.line ?? 0), key: key, message: message))
  }

  /// A mapping's entries by key, each with its key node (for the line) and value.
  struct Section {
    let path: String
    let node: Node
    var entries: [String: (key: Node, value: Node)] = [:]
    /// The keys in the file's order.
    var order: [String] = []
    var used: Set<String> = []

    /// The node to report a problem with `key` against: its value, else the section.
    func at(_ key: String) -> Node { entries[key]?.value ?? node }
    /// The key node of `key`, else the section.
    func keyNode(_ key: String) -> Node { entries[key]?.key ?? node }
  }

  func section(_ node: Node?, path: String) -> Section? {
    guard let node else { return nil }
    guard let mapping = node.mapping else {
      problem(node, path, "expected a mapping of keys to values, got \(Self.kind(node))")
      return nil
    }
    var s = Section(path: path, node: node)
    s.entries.reserveCapacity(mapping.count)
    for (k, v) in mapping {
      guard let name = k.scalar?.string else {
        problem(k, path, "keys must be text, got \(Self.kind(k))")
        continue
      }
      // Yams refuses `a:` twice, but `a:` and `"a":` differ to it and would overwrite here.
      if let first = s.entries[name] {
        problem(k, join(path, name), "duplicate key (first at line \(first.key.mark?.line ?? 0))")
        continue
      }
      s.entries[name] = (k, v)
      s.order.append(name)
    }
    return s
  }

  /// Reports keys of `section` that no reader asked for, in the file's order.
  func finish(_ section: Section) {
    let unknown = section.order.filter { !section.used.contains($0) }
    guard !unknown.isEmpty else { return }
    let known = section.used.sorted().joined(separator: ", ")
    let message = "unknown key" + (known.isEmpty ? "" : " (known here: \(known))")
    for name in unknown {
      problem(section.entries[name]?.key ?? section.node, join(section.path, name), message)
    }
  }

  /// The key path of `key` in the section at `path` (``ConfigIssue/join(_:_:)``).
  func join(_ path: String, _ key: String) -> String { ConfigIssue.join(path, key) }

  func value(_ s: inout Section, _ key: String) -> Node? {
    s.used.insert(key)
    return s.entries[key]?.value
  }

  func string(_ s: inout Section, _ key: String) -> String? {
    guard let v = value(&s, key) else { return nil }
    guard let text = v.scalar?.string else {
      problem(v, join(s.path, key), "expected a text value, got \(Self.kind(v))")
      return nil
    }
    return text
  }

  func int(_ s: inout Section, _ key: String, range: ClosedRange<Int>) -> Int? {
    guard let text = string(&s, key) else { return nil }
    guard let n = Int(text) ?? Int(text.trimmingCharacters(in: .whitespaces)), range.contains(n) else {
      problem(
        s.at(key), join(s.path, key),
        "expected a whole number from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
      return nil
    }
    return n
  }

  func number(_ s: inout Section, _ key: String) -> Double? {
    guard let text = string(&s, key) else { return nil }
    guard let n = Double(text), n.isFinite else {
      problem(s.at(key), join(s.path, key), "expected a number, got '\(text)'")
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
      problem(s.at(key), join(s.path, key), "expected true or false, got '\(text)'")
      return nil
    }
  }

  /// A size within `range` (bytes); `why` says where the bounds come from.
  func bytes(_ s: inout Section, _ key: String, range: ClosedRange<Int64>, why: String? = nil) -> Int64? {
    guard let text = string(&s, key) else { return nil }
    let n: Int64
    do { n = try ConfigValues.size(text) } catch {
      problem(s.at(key), join(s.path, key), error.message)
      return nil
    }
    guard range.contains(n) else {
      let bounds =
        "from \(ConfigValues.describeBytes(range.lowerBound)) to \(ConfigValues.describeBytes(range.upperBound))"
      problem(s.at(key), join(s.path, key), "expected a size \(bounds), got '\(text)'" + (why.map { " (\($0))" } ?? ""))
      return nil
    }
    return n
  }

  /// A duration within `range` (milliseconds); `why` says where the bounds come from.
  func milliseconds(_ s: inout Section, _ key: String, range: ClosedRange<Int64>, why: String? = nil) -> Int64? {
    guard let text = string(&s, key) else { return nil }
    let n: Int64
    do { n = try ConfigValues.duration(text) } catch {
      problem(s.at(key), join(s.path, key), error.message)
      return nil
    }
    guard range.contains(n) else {
      let bounds =
        "from \(ConfigValues.describeMilliseconds(range.lowerBound)) to \(ConfigValues.describeMilliseconds(range.upperBound))"
      problem(
        s.at(key), join(s.path, key), "expected a duration \(bounds), got '\(text)'" + (why.map { " (\($0))" } ?? ""))
      return nil
    }
    return n
  }

  /// ``bytes(_:_:range:why:)`` narrowed to `Int`, for the settings other modules keep as `Int`.
  func byteCount(_ s: inout Section, _ key: String, range: ClosedRange<Int64>, why: String? = nil) -> Int? {
    guard let v = bytes(&s, key, range: range, why: why) else { return nil }
    return narrow(v, s, key)
  }

  /// ``milliseconds(_:_:range:why:)`` narrowed to `Int`.
  func millisecondCount(_ s: inout Section, _ key: String, range: ClosedRange<Int64>, why: String? = nil) -> Int? {
    guard let v = milliseconds(&s, key, range: range, why: why) else { return nil }
    return narrow(v, s, key)
  }

  private func narrow(_ v: Int64, _ s: Section, _ key: String) -> Int? {
    guard let n = Int(exactly: v) else {
      problem(s.at(key), join(s.path, key), "\(v) does not fit this platform's integers (at most \(Int.max))")
      return nil
    }
    return n
  }

  func choice<T: RawRepresentable>(_ s: inout Section, _ key: String, _ type: T.Type, allowed: [T]) -> T?
  where T.RawValue == String {
    guard let text = string(&s, key) else { return nil }
    guard let v = T(rawValue: text), allowed.contains(where: { $0.rawValue == v.rawValue }) else {
      problem(
        s.at(key), join(s.path, key),
        "expected one of \(allowed.map(\.rawValue).joined(separator: ", ")), got '\(text)'")
      return nil
    }
    return v
  }

  func sequence(_ s: inout Section, _ key: String) -> [Node]? {
    guard let v = value(&s, key) else { return nil }
    guard let seq = v.sequence else {
      problem(v, join(s.path, key), "expected a list, got \(Self.kind(v))")
      return nil
    }
    return Array(seq)
  }

  /// What a node is, for messages: "a mapping", "a list", "a text value".
  static func kind(_ node: Node?) -> String {
    switch node {
    case .mapping?: "a mapping"
    case .sequence?: "a list"
    case .scalar(let s)?: s.string.isEmpty ? "an empty value" : "the value '\(s.string.prefix(40))'"
    default: "nothing"
    }
  }
}
