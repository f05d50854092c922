/// One lexical token of the rule language.
struct Token: Sendable, Equatable {
  enum Kind: Sendable, Equatable {
    /// A bare or quoted name; keywords are bare names the parser recognises in context.
    case identifier
    case number(Double)
    /// A number with a unit suffix, in milliseconds.
    case duration(Int64)
    case string(String)
    case symbol(Symbol)
    case endOfFile
    /// Text the lexer could not read; `text` holds the reason.
    case invalid
  }

  enum Symbol: String, Sendable, Equatable {
    case leftParen = "(", rightParen = ")", comma = ",", semicolon = ";", dot = ".", star = "*"
    case leftBracket = "[", rightBracket = "]", plus = "+", minus = "-", slash = "/", percent = "%"
    case equal = "=", notEqual = "!=", lessGreater = "<>", less = "<", lessEqual = "<=", greater = ">"
    case greaterEqual = ">="
  }

  var kind: Kind
  /// The source text of the token (the name, for identifiers; the reason, for invalid tokens).
  var text: String
  /// True for names written in double quotes or backticks, which are never keywords.
  var quoted: Bool = false
  var location: SourceLocation

  /// True if this is the bare keyword `word` (case-insensitive).
  func isKeyword(_ word: String) -> Bool {
    guard case .identifier = kind, !quoted else { return false }
    return text.uppercased() == word
  }

  func isSymbol(_ symbol: Symbol) -> Bool {
    if case .symbol(let s) = kind { return s == symbol }
    return false
  }

  /// How the token is named in "found ..." parts of error messages.
  var displayName: String {
    switch kind {
    case .identifier: return quoted ? "name \"\(text)\"" : (Token.reserved.contains(text.uppercased()) ? "keyword \(text.uppercased())" : "name '\(text)'")
    case .number: return "number \(text)"
    case .duration: return "duration \(text)"
    case .string: return "string \(text)"
    case .symbol(let s): return "'\(s.rawValue)'"
    case .endOfFile: return "end of file"
    case .invalid: return "invalid text"
    }
  }

  /// Words that cannot be used as bare field names (quote them: `"end"`).
  static let reserved: Set<String> = [
    "CREATE", "RULE", "AS", "SELECT", "FROM", "WHERE", "GROUP", "BY", "HAVING", "RAISE", "ALERT", "MESSAGE",
    "CLEAR", "AFTER", "WINDOWS", "WITH", "AND", "OR", "NOT", "IN", "BETWEEN", "IS", "NULL", "TRUE", "FALSE",
    "CASE", "WHEN", "THEN", "ELSE", "END",
  ]
}
