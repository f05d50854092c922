import CYaml
import Foundation
import WeirCore
import Yams

/// Turns a configuration's text into a YAML tree within ``ConfigLimits``, or into problems that
/// each carry the line they are on.
///
/// libyaml's event stream is read once first, without building anything, to check size, depth,
/// the node count after alias expansion and duplicate keys; only a text that passes is composed
/// by Yams. Yams' composer recurses once per nesting level and shares aliased subtrees, which the
/// rest of the reader walks as copies: unchecked, a deep or alias-heavy file overflows the stack
/// or grows without bound.
enum ConfigYAML {
  /// The document's root (nil for an empty document), or every problem found with its line.
  static func compose(_ text: String, file: String) throws(ConfigError) -> Node? {
    let size = text.utf8.count
    if size > ConfigLimits.fileBytes {
      throw ConfigError(
        file: file, line: 1, key: "",
        "the file is \(size) bytes; a configuration may have at most \(ConfigLimits.fileBytes) (1 MiB)")
    }
    if let problem = prescan(text, file: file) { throw ConfigError(problems: [problem]) }
    do {
      // The basic resolver tags every scalar as text without running a regular expression per
      // scalar (Yams hashes every key to find duplicates); the reader reads scalars as text anyway.
      return try Yams.compose(yaml: text, .basic)
    } catch let error as YamlError {
      throw ConfigError(problems: [problem(error, file: file)])
    } catch {
      throw ConfigError(file: file, line: 1, key: "", "not valid YAML: \(error)")
    }
  }

  /// One open mapping or list while scanning.
  private struct Frame {
    var anchor: String?
    var isMapping: Bool
    /// The key path of this mapping or list, for messages: `mqtt[0].subscriptions`.
    var path: String
    var expectingKey = true
    /// The mapping's last key, or the list's entries so far.
    var lastKey: String?
    var entries = 0
    var keys: [String: Int] = [:]
    /// Nodes in this subtree, aliases expanded.
    var nodes = 1
    /// Nesting levels below this one, aliases expanded.
    var height = 1

    /// The key path of the node that comes next in this mapping or list.
    var childPath: String {
      if !isMapping { return path + "[\(entries)]" }
      guard !expectingKey, let lastKey else { return path }
      return path.isEmpty ? lastKey : path + "." + lastKey
    }
  }

  /// The first problem the event stream shows, or nil when the text is within the limits.
  static func prescan(_ text: String, file: String) -> ConfigProblem? {
    var bytes = Array(text.utf8)
    return bytes.withUnsafeMutableBufferPointer { buffer -> ConfigProblem? in
      var parser = yaml_parser_t()
      guard yaml_parser_initialize(&parser) == 1 else {
        return ConfigProblem(file: file, line: 1, key: "", message: "out of memory reading the YAML")
      }
      defer { yaml_parser_delete(&parser) }
      yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
      yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
      return scan(&parser, bytes: UnsafeBufferPointer(buffer), file: file)
    }
  }

  private static func scan(_ parser: inout yaml_parser_t, bytes: UnsafeBufferPointer<UInt8>, file: String)
    -> ConfigProblem?
  {
    var stack: [Frame] = []
    var anchors: [String: (nodes: Int, height: Int)] = [:]
    var total = 0
    var documents = 0
    func at(_ event: yaml_event_t, _ path: String, _ message: String) -> ConfigProblem {
      ConfigProblem(file: file, line: Int(event.start_mark.line) + 1, key: path, message: message)
    }
    /// Adds a finished node (`nodes` and `height` with aliases expanded) to its parent.
    func add(_ event: yaml_event_t, nodes: Int, height: Int, key: String?) -> ConfigProblem? {
      guard var parent = stack.popLast() else { return nil }
      defer { stack.append(parent) }
      let path = parent.childPath
      parent.nodes += nodes
      parent.height = max(parent.height, height + 1)
      if stack.count + 1 + height > ConfigLimits.depth {
        return at(event, path, "nested more than \(ConfigLimits.depth) levels deep (aliases included)")
      }
      guard parent.isMapping else {
        parent.entries += 1
        return nil
      }
      if parent.expectingKey {
        parent.lastKey = key
        if let key {
          let name = path.isEmpty ? key : path + "." + key
          if let first = parent.keys[key] { return at(event, name, "duplicate key (first at line \(first))") }
          parent.keys[key] = Int(event.start_mark.line) + 1
        }
      }
      parent.expectingKey.toggle()
      return nil
    }
    while true {
      var event = yaml_event_t()
      guard yaml_parser_parse(&parser, &event) == 1 else {
        return syntaxProblem(parser, bytes: bytes, file: file, path: stack.last?.childPath ?? "")
      }
      defer { yaml_event_delete(&event) }
      var problem: ConfigProblem?
      switch event.type {
      case YAML_STREAM_END_EVENT:
        return nil
      case YAML_DOCUMENT_START_EVENT:
        documents += 1
        if documents > 1 {
          return at(event, "", "a configuration is one YAML document; remove this second one ('---')")
        }
      case YAML_SCALAR_EVENT:
        total += 1
        if let anchor = string(event.data.scalar.anchor) { anchors[anchor] = (1, 0) }
        let scalar = event.data.scalar
        let value = scalar.value.map {
          String(decoding: UnsafeBufferPointer(start: $0, count: Int(scalar.length)), as: UTF8.self)
        }
        problem = add(event, nodes: 1, height: 0, key: value ?? "")
      case YAML_ALIAS_EVENT:
        let name = string(event.data.alias.anchor) ?? ""
        guard let target = anchors[name] else {
          return at(event, stack.last?.childPath ?? "", "the alias *\(name.prefix(80)) names no anchor before it")
        }
        total += target.nodes
        problem = add(event, nodes: target.nodes, height: target.height, key: nil)
      case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
        total += 1
        let isMapping = event.type == YAML_MAPPING_START_EVENT
        let anchor = string(isMapping ? event.data.mapping_start.anchor : event.data.sequence_start.anchor)
        let path = stack.last?.childPath ?? ""
        stack.append(Frame(anchor: anchor, isMapping: isMapping, path: path))
        if stack.count > ConfigLimits.depth {
          return at(event, path, "nested more than \(ConfigLimits.depth) levels deep")
        }
      case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
        guard let frame = stack.popLast() else { break }
        if let anchor = frame.anchor { anchors[anchor] = (frame.nodes, frame.height) }
        problem = add(event, nodes: frame.nodes, height: frame.height, key: nil)
      default:
        break
      }
      if let problem { return problem }
      if total > ConfigLimits.nodes {
        return at(
          event, stack.last?.path ?? "",
          "more than \(ConfigLimits.nodes) YAML nodes (keys, values and list entries, with aliases expanded); "
            + "a configuration this large is refused")
      }
    }
  }

  private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
    pointer.map { String(cString: $0) }
  }

  /// libyaml's error, at the line it names (reader errors name a byte offset instead).
  private static func syntaxProblem(
    _ parser: yaml_parser_t, bytes: UnsafeBufferPointer<UInt8>, file: String, path: String
  ) -> ConfigProblem {
    let problem = parser.problem.map { String(cString: $0) } ?? "unknown error"
    if parser.error == YAML_READER_ERROR {
      let offset = min(Int(parser.problem_offset), bytes.count)
      return ConfigProblem(
        file: file, line: ConfigFile.line(atOffset: offset, in: bytes), key: path,
        message: "not valid YAML: \(problem) (byte \(parser.problem_value) at offset \(offset))")
    }
    if parser.error == YAML_MEMORY_ERROR {
      return ConfigProblem(file: file, line: 1, key: "", message: "out of memory reading the YAML")
    }
    let mark = parser.problem_mark
    if problem.hasPrefix("Maximum nesting level") {
      // libyaml's own limit (1000), met before ours when it scans a flow collection ahead.
      return ConfigProblem(
        file: file, line: Int(mark.line) + 1, key: path, message: "nested more than \(ConfigLimits.depth) levels deep")
    }
    var message = "not valid YAML: \(problem)"
    let context = parser.context.map { String(cString: $0) }
    if let context { message += " (\(context) at line \(Int(parser.context_mark.line) + 1))" }
    message += ", column \(Int(mark.column) + 1)"
    // A key without its ':' is noticed only further on: the key's own line is the one to fix.
    // And a construct left open is noticed at the end of the file, past its last line.
    var line = Int(context == "while scanning a simple key" ? parser.context_mark.line : mark.line) + 1
    line = min(line, lastLine(in: bytes))
    if lineHasTab(line, in: bytes) { message += "; YAML indents with spaces, and this line has a tab" }
    return ConfigProblem(file: file, line: line, key: path, message: message)
  }

  /// The last line that holds anything but line breaks (1 for an empty text).
  private static func lastLine(in bytes: UnsafeBufferPointer<UInt8>) -> Int {
    var end = bytes.count
    while end > 0 && (bytes[end - 1] == 0x0A || bytes[end - 1] == 0x0D) { end -= 1 }
    return ConfigFile.line(atOffset: end == 0 ? 0 : end - 1, in: bytes)
  }

  private static func lineHasTab(_ line: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    var current = 1
    for b in bytes {
      if b == 0x0A {
        current += 1
        if current > line { return false }
      } else if b == 0x09 && current == line {
        return true
      }
    }
    return false
  }

  /// A Yams error as a problem at its line.
  static func problem(_ error: YamlError, file: String) -> ConfigProblem {
    func at(_ mark: Mark?, _ message: String) -> ConfigProblem {
      ConfigProblem(file: file, line: max(1, mark?.line ?? 1), key: "", message: "not valid YAML: " + message)
    }
    switch error {
    case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
      .composer(let context, let problem, let mark, _):
      return at(mark, problem + (context.map { " (\($0.text) at line \($0.mark.line))" } ?? ""))
    case .duplicatedKeysInMapping(let duplicates, let context):
      return at(context.mark, "duplicate keys " + duplicates.map { "'\($0.prefix(80))'" }.joined(separator: ", "))
    case .reader(let problem, _, _, _):
      return at(nil, problem)
    default:
      return at(nil, "\(error)")
    }
  }
}
