import Foundation
import Yams

/// Applies the environment to a configuration before it is read, so secrets and per-box values
/// stay out of the file:
/// - `${NAME}` inside any value is replaced by the variable `NAME` (an unset one is an error at
///   that line; `$${` writes a literal `${`);
/// - `WEIR_<KEY>__<KEY>...=value` sets the value at that path, keys lowercased and list entries
///   numbered from 0: `WEIR_GATEWAY__ID=edge-7`, `WEIR_UPLINKS__0__PASSWORD=...`,
///   `WEIR_HTTP__TOKEN=...`. Only variables with `__` in their name are read this way.
struct ConfigEnvironment {
  let variables: [String: String]
  let reader: ConfigReader

  init(_ variables: [String: String], reader: ConfigReader) {
    self.variables = variables
    self.reader = reader
  }

  func apply(to root: Node) -> Node {
    var node = expand(root, path: "")
    for (name, value) in variables.sorted(by: { $0.key < $1.key }) where name.hasPrefix("WEIR_") && name.contains("__") {
      let keys = name.dropFirst(5).components(separatedBy: "__").map { $0.lowercased() }
      guard !keys.contains(where: \.isEmpty) else { continue }
      if let updated = set(node, keys[...], value: value, variable: name) { node = updated }
    }
    return node
  }

  private func expand(_ node: Node, path: String) -> Node {
    switch node {
    case .scalar(var scalar):
      guard scalar.string.contains("${") else { return node }
      scalar.string = substitute(scalar.string, node: node, path: path)
      return .scalar(scalar)
    case .mapping(var mapping):
      for (key, value) in mapping {
        mapping[key] = expand(value, path: reader.join(path, key.string ?? "?"))
      }
      return .mapping(mapping)
    case .sequence(var sequence):
      for i in sequence.indices { sequence[i] = expand(sequence[i], path: path + "[\(i)]") }
      return .sequence(sequence)
    default:
      return node
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
        reader.problem(node, path, "environment variable \(name) is not set (the value refers to ${\(name)})")
      }
      rest = rest[rest.index(after: end)...]
    }
    return out + rest
  }

  private func set(_ node: Node, _ keys: ArraySlice<String>, value: String, variable: String) -> Node? {
    guard let key = keys.first else { return Node(value) }
    switch node {
    case .mapping(var mapping):
      let child = mapping[key] ?? Node([(Node, Node)]())
      guard let updated = set(child, keys.dropFirst(), value: value, variable: variable) else { return nil }
      mapping[key] = updated
      return .mapping(mapping)
    case .sequence(var sequence):
      guard let i = Int(key), sequence.indices.contains(i) else {
        reader.problem(node, variable, "the list here has \(sequence.count) entries, so '\(key)' names none")
        return nil
      }
      guard let updated = set(sequence[i], keys.dropFirst(), value: value, variable: variable) else { return nil }
      sequence[i] = updated
      return .sequence(sequence)
    default:
      reader.problem(node, variable, "the value here is not a mapping, so it has no key '\(key)'")
      return nil
    }
  }
}
