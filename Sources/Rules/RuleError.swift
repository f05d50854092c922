/// A problem in a rule file, located precisely enough for a person to fix it.
///
/// The description reads like a compiler diagnostic: `rules.sql:3:14: expected ')' after window size, found ','`.
public struct RuleError: Error, Hashable, Sendable, CustomStringConvertible {
  /// What kind of problem this is; stable for programs that branch on it.
  public enum Code: String, Sendable {
    /// The text is not a valid token (an unterminated string, a stray character).
    case lexical
    /// The tokens do not form a valid rule.
    case syntax
    /// The rule is well formed but means nothing (an unknown function, an aggregate inside WHERE).
    case semantic
  }

  /// The kind of problem.
  public var code: Code
  /// The file the rule came from, as the caller named it.
  public var file: String
  /// Where in the file the problem was found.
  public var location: SourceLocation
  /// What was wrong and, where it helps, what was expected instead.
  public var message: String
  /// The rule the problem belongs to, when the parser got as far as its name.
  public var rule: String?

  /// Creates an error.
  public init(code: Code, file: String, location: SourceLocation, message: String, rule: String? = nil) {
    self.code = code
    self.file = file
    self.location = location
    self.message = message
    self.rule = rule
  }

  /// The 1-based line of the problem.
  public var line: Int { location.line }
  /// The 1-based column of the problem.
  public var column: Int { location.column }

  public var description: String { "\(file):\(location.line):\(location.column): \(message)" }
}

/// Rules that could not be loaded, each with its own located error.
public struct RuleLoadError: Error, Sendable, CustomStringConvertible {
  /// Every error found, in file order.
  public var errors: [RuleError]

  /// Creates a load error from the errors found.
  public init(errors: [RuleError]) {
    self.errors = errors
  }

  public var description: String { errors.map(\.description).joined(separator: "\n") }
}
