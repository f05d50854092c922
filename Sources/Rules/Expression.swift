/// An expression of the rule language, as written, with where it was written.
public struct Expression: Sendable, CustomStringConvertible {
  /// The shape of an expression.
  public indirect enum Kind: Sendable {
    /// A numeric literal.
    case number(Double)
    /// A string literal.
    case string(String)
    /// A duration literal such as `30s`, in milliseconds; it evaluates to seconds.
    case duration(milliseconds: Int64)
    /// `TRUE` or `FALSE`.
    case boolean(Bool)
    /// `NULL`.
    case null
    /// A field of the payload.
    case field(FieldPath)
    /// A function call; `star` is true for `count(*)`.
    case call(name: String, arguments: [Expression], star: Bool)
    /// `-x` or `NOT x`.
    case unary(UnaryOperator, Expression)
    /// `x op y`.
    case binary(BinaryOperator, Expression, Expression)
    /// `x [NOT] IN (a, b, ...)`.
    case inList(Expression, [Expression], negated: Bool)
    /// `x [NOT] BETWEEN low AND high`.
    case between(Expression, low: Expression, high: Expression, negated: Bool)
    /// `x IS [NOT] NULL`.
    case isNull(Expression, negated: Bool)
    /// `CASE [subject] WHEN ... THEN ... [ELSE ...] END`.
    case caseWhen(subject: Expression?, branches: [CaseBranch], otherwise: Expression?)
  }

  /// One `WHEN condition THEN result` of a CASE.
  public struct CaseBranch: Sendable {
    /// The condition, or the value compared with the subject.
    public var condition: Expression
    /// The result when the branch matches.
    public var result: Expression
  }

  /// The expression's shape.
  public var kind: Kind {
    didSet { height = Expression.height(of: kind) }
  }
  /// Where the expression starts in the rule file.
  public var location: SourceLocation
  /// The depth of the tree (1 for a literal or a field); the parser bounds it, so every pass over an expression
  /// can recurse.
  private(set) var height: Int

  /// Creates an expression.
  public init(_ kind: Kind, at location: SourceLocation) {
    self.kind = kind
    self.location = location
    height = Expression.height(of: kind)
  }

  private static func height(of kind: Kind) -> Int {
    func tallest(_ parts: [Expression]) -> Int { parts.reduce(0) { Swift.max($0, $1.height) } }
    switch kind {
    case .number, .string, .duration, .boolean, .null, .field: return 1
    case .call(_, let arguments, _): return 1 + tallest(arguments)
    case .unary(_, let x), .isNull(let x, _): return 1 + x.height
    case .binary(_, let l, let r): return 1 + Swift.max(l.height, r.height)
    case .inList(let x, let list, _): return 1 + Swift.max(x.height, tallest(list))
    case .between(let x, let low, let high, _): return 1 + tallest([x, low, high])
    case .caseWhen(let subject, let branches, let otherwise):
      let parts = (subject.map { [$0] } ?? []) + branches.flatMap { [$0.condition, $0.result] } + (otherwise.map { [$0] } ?? [])
      return 1 + tallest(parts)
    }
  }

  /// The expression in a canonical, fully parenthesised form (used by tests and error messages).
  public var description: String {
    switch kind {
    case .number(let v): return Expression.format(v)
    case .string(let s): return "'\(s.replacingAll("'", with: "''"))'"
    case .duration(let ms): return "\(ms)ms"
    case .boolean(let b): return b ? "TRUE" : "FALSE"
    case .null: return "NULL"
    case .field(let path): return path.description
    case .call(let name, let arguments, let star):
      return "\(name)(\(star ? "*" : arguments.map(\.description).joined(separator: ", ")))"
    case .unary(let op, let operand): return "(\(op.rawValue)\(op == .not ? " " : "")\(operand))"
    case .binary(let op, let lhs, let rhs): return "(\(lhs) \(op.rawValue) \(rhs))"
    case .inList(let subject, let list, let negated):
      return "(\(subject) \(negated ? "NOT IN" : "IN") (\(list.map(\.description).joined(separator: ", "))))"
    case .between(let subject, let low, let high, let negated):
      return "(\(subject) \(negated ? "NOT BETWEEN" : "BETWEEN") \(low) AND \(high))"
    case .isNull(let subject, let negated): return "(\(subject) IS \(negated ? "NOT NULL" : "NULL"))"
    case .caseWhen(let subject, let branches, let otherwise):
      var text = "CASE"
      if let subject { text += " \(subject)" }
      for branch in branches { text += " WHEN \(branch.condition) THEN \(branch.result)" }
      if let otherwise { text += " ELSE \(otherwise)" }
      return text + " END"
    }
  }

  static func format(_ value: Double) -> String {
    if value == value.rounded(), value.magnitude < 1e15 { return String(Int64(value)) }
    return String(value)
  }
}

/// A prefix operator.
public enum UnaryOperator: String, Sendable {
  /// Arithmetic negation.
  case negate = "-"
  /// Logical negation.
  case not = "NOT"
}

/// An infix operator.
public enum BinaryOperator: String, Sendable {
  // Arithmetic, comparison and logic; the raw value is how the operator is written.
  case add = "+", subtract = "-", multiply = "*", divide = "/", modulo = "%"
  case equal = "=", notEqual = "!=", less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">="
  case and = "AND", or = "OR"
}

extension String {
  func replacingAll(_ target: Character, with replacement: String) -> String {
    var out = ""
    for c in self { if c == target { out += replacement } else { out.append(c) } }
    return out
  }
}
