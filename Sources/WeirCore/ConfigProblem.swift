/// One thing wrong in a configuration file: where, which key, and what to do about it. The
/// gateway's YAML reader reports with it, and so do the files a configuration names (rule
/// files, the listener's password and ACL files), so every problem reads `file:line: message`.
public struct ConfigProblem: Sendable, CustomStringConvertible, Equatable {
  public var file: String
  /// The 1-based line; 0 for a problem with the file as a whole (it cannot be read).
  public var line: Int
  public var key: String
  public var message: String

  public init(file: String, line: Int, key: String, message: String) {
    self.file = file
    self.line = line
    self.key = key
    self.message = message
  }

  public var description: String { key.isEmpty ? "\(file):\(line): \(message)" : "\(file):\(line): \(key): \(message)" }
}

/// A configuration that cannot be used, with every problem found.
public struct ConfigError: Error, CustomStringConvertible {
  public var problems: [ConfigProblem]
  public var description: String { problems.map(\.description).joined(separator: "\n") }

  public init(problems: [ConfigProblem]) { self.problems = problems }

  /// One problem at `line` of `file`.
  public init(file: String, line: Int, key: String, _ message: String) {
    problems = [ConfigProblem(file: file, line: line, key: key, message: message)]
  }
}
