import Foundation
import Yams

/// Applies the environment to a configuration before it is read, so secrets and per-box values
/// stay out of the file:
/// - `${NAME}` inside any value is replaced by the variable `NAME` (an unset one is an error at
///   that line; `$${` writes a literal `${`);
/// - `WEIR_<KEY>__<KEY>...=value` sets the value at that path, keys lowercased and list entries
///   numbered from 0: `WEIR_GATEWAY__ID=edge-7`, `WEIR_UPLINKS__0__PASSWORD=...`,
///   `WEIR_HTTP__TOKEN=...`. Only variables with `__` in their name are read this way.
///
/// Every node it writes keeps a line: a replaced value keeps the line of the value it replaces,
/// and a key the environment adds takes the line of the mapping it is added to.
struct ConfigEnvironment {
  let variables: [String: String]
  let reader: ConfigReader

  init(_ variables: [String: String], reader: ConfigReader) {
    self.variables = variables
    self.reader = reader
  }

  func apply(to root: Node) -> Node {
    var node = expand(root, path: "") ?? root
    for (name, value) in variables.sorted(by: { $0.key < $1.key }) where name.hasPrefix("WEIR_") && name.contains("__")
    {
      let keys = name.dropFirst(5).components(separatedBy: "__").map { $0.lowercased() }
      guard !keys.contains(where: \.isEmpty) else { continue }
      if let updated = set(node, keys[...], value: value, variable: name) { node = updated }
    }
    return node
  }

  /// `node` with `${...}` replaced, or nil when nothing in it changed. Pairs and entries are
  /// replaced in place by index: Yams' key subscript is a linear search, so assigning through it
  /// for every key made a large mapping quadratic.
  private func expand(_ node: Node, path: String) -> Node? {
    switch node {
    case .scalar(var scalar):
      guard scalar.string.contains("${") else { return nil }
      scalar.string = substitute(scalar.string, node: node, path: path)
      return .scalar(scalar)
    case .mapping(var mapping):
      var changed = false
      for i in mapping.indices {
        let (key, value) = mapping[i]
        if let updated = expand(value, path: reader.join(path, key.scalar?.string ?? "?")) {
          mapping[i] = (key, updated)
          changed = true
        }
      }
      return changed ? .mapping(mapping) : nil
    case .sequence(var sequence):
      var changed = false
      for i in sequence.indices {
        if let updated = expand(sequence[i], path: path + "[\(i)]") {
          sequence[i] = updated
          changed = true
        }
      }
      return changed ? .sequence(sequence) : nil
    default:
      return nil
    }
  }

  private func substitute(_ text: String, node: Node, path: String) -> String {
    var out = ""
    var rest = Substring(text)
    while let start = rest.range(of: "${") {
      if start.lowerBound > rest.startIndex, rest[rest.index(before: start.lowerBound)] == "$" {
        out += rest[..<rest.index(before: start.lowerBound)] + "${"
        rest = rest[start.upperBound...]
        continue
      }
      out += rest[..<start.lowerBound]
      guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
        reader.problem(node, path, "'${' without a closing '}'")
        return text
      }
      let name = String(rest[start.upperBound..<end])
      if let value = variables[name] {
        out += value
      } else {
        reader.problem(
          node, path, "environment variable \(name.prefix(80)) is not set (the value refers to ${\(name.prefix(80))})")
      }
      rest = rest[rest.index(after: end)...]
    }
    return out + rest
  }

  /// A text node at `mark` (the line of what it replaces or where it is added).
  private static func scalar(_ text: String, at mark: Mark?) -> Node {
    .scalar(Node.Scalar(text, .implicit, .any, mark))
  }

  private func set(_ node: Node, _ keys: ArraySlice<String>, value: String, variable: String) -> Node? {
    guard let key = keys.first else { return Self.scalar(value, at: node.mark) }
    switch node {
    case .mapping(var mapping):
      let index = mapping.firstIndex { $0.key.scalar?.string == key }
      let child = index.map { mapping[$0].value } ?? .mapping(Node.Mapping([], .implicit, .any, node.mark))
      guard let updated = set(child, keys.dropFirst(), value: value, variable: variable) else { return nil }
      if let index {
        mapping[index] = (mapping[index].key, updated)
      } else {
        mapping = Node.Mapping(
          Array(mapping) + [(Self.scalar(key, at: node.mark), updated)], mapping.tag, mapping.style, mapping.mark)
      }
      return .mapping(mapping)
    case .sequence(var sequence):
      guard let i = Int(key), sequence.indices.contains(i) else {
        reader.problem(node, variable, "the list here has \(sequence.count) entries, so '\(key.prefix(80))' names none")
        return nil
      }
      guard let updated = set(sequence[i], keys.dropFirst(), value: value, variable: variable) else { return nil }
      sequence[i] = updated
      return .sequence(sequence)
    default:
      reader.problem(node, variable, "the value here is not a mapping, so it has no key '\(key.prefix(80))'")
      return nil
    }
  }
}
