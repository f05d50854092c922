import Payload

/// An expression compiled for evaluation once per closed window (SELECT items and HAVING).
indirect enum WindowExpression {
  case constant(Value)
  /// The result of the rule's aggregate call at this index.
  case aggregate(Int)
  /// The group key part at this index.
  case keyPart(Int)
  /// The SELECT item at this index (HAVING refers to SELECT aliases).
  case selectItem(Int)
  case negate(WindowExpression)
  case not(WindowExpression)
  case arithmetic(BinaryOperator, WindowExpression, WindowExpression)
  case comparison(BinaryOperator, WindowExpression, WindowExpression)
  case and(WindowExpression, WindowExpression)
  case or(WindowExpression, WindowExpression)
  case inList(WindowExpression, [WindowExpression], negated: Bool)
  case between(WindowExpression, WindowExpression, WindowExpression, negated: Bool)
  case isNull(WindowExpression, negated: Bool)
  case caseWhen(subject: WindowExpression?, [(WindowExpression, WindowExpression)], otherwise: WindowExpression?)
  case function(ScalarFunction, [WindowExpression])

  /// What a window expression can see.
  struct Environment {
    var aggregates: [Value]
    var keyParts: [Value]
    var selectValues: [Value]
  }

  func evaluate(_ env: Environment) -> Value {
    switch self {
    case .constant(let v): return v
    case .aggregate(let i): return env.aggregates[i]
    case .keyPart(let i): return env.keyParts[i]
    case .selectItem(let i): return env.selectValues[i]
    case .negate(let e):
      if let v = e.evaluate(env).number { return .number(-v) }
      return .null
    case .not(let e):
      if case .bool(let b) = e.evaluate(env) { return .bool(!b) }
      return .null
    case .arithmetic(let op, let l, let r):
      guard let x = l.evaluate(env).number, let y = r.evaluate(env).number,
        case .number(let v) = RecordExpression.arithmetic(op, x, y)
      else { return .null }
      return .number(v)
    case .comparison(let op, let l, let r):
      return WindowExpression.compare(op, l.evaluate(env), r.evaluate(env))
    case .and(let l, let r):
      let a = l.evaluate(env)
      if a == .bool(false) { return .bool(false) }
      let b = r.evaluate(env)
      if b == .bool(false) { return .bool(false) }
      return a == .bool(true) && b == .bool(true) ? .bool(true) : .null
    case .or(let l, let r):
      let a = l.evaluate(env)
      if a == .bool(true) { return .bool(true) }
      let b = r.evaluate(env)
      if b == .bool(true) { return .bool(true) }
      return a == .bool(false) && b == .bool(false) ? .bool(false) : .null
    case .inList(let e, let list, let negated):
      let subject = e.evaluate(env)
      if subject == .null { return .null }
      var sawNull = false
      for item in list {
        switch WindowExpression.compare(.equal, subject, item.evaluate(env)) {
        case .bool(true): return .bool(!negated)
        case .null: sawNull = true
        default: break
        }
      }
      return sawNull ? .null : .bool(negated)
    case .between(let e, let lo, let hi, let negated):
      let subject = e.evaluate(env)
      guard case .bool(let x) = WindowExpression.compare(.greaterEqual, subject, lo.evaluate(env)),
        case .bool(let y) = WindowExpression.compare(.lessEqual, subject, hi.evaluate(env))
      else { return .null }
      return .bool((x && y) != negated)
    case .isNull(let e, let negated):
      return .bool((e.evaluate(env) == .null) != negated)
    case .caseWhen(let subject, let branches, let otherwise):
      let s = subject?.evaluate(env)
      for (condition, result) in branches {
        let c = condition.evaluate(env)
        let matched = s.map { WindowExpression.compare(.equal, $0, c) == .bool(true) } ?? (c == .bool(true))
        if matched { return result.evaluate(env) }
      }
      return otherwise?.evaluate(env) ?? .null
    case .function(let f, let args):
      if f == .coalesce {
        for arg in args {
          let v = arg.evaluate(env)
          if v != .null { return v }
        }
        return .null
      }
      guard let x = args[0].evaluate(env).number else { return .null }
      var y = 0.0
      if args.count > 1 {
        guard let v = args[1].evaluate(env).number else { return .null }
        y = v
      }
      let result = f.apply(x, y)
      return result.isFinite ? .number(result) : .null
    }
  }

  static func compare(_ op: BinaryOperator, _ a: Value, _ b: Value) -> Value {
    let order: Int
    switch (a, b) {
    case (.number(let x), .number(let y)):
      guard x.isFinite, y.isFinite else { return .null }
      order = x < y ? -1 : (x == y ? 0 : 1)
    case (.string(let x), .string(let y)):
      order = x.utf8.lexicographicallyPrecedes(y.utf8) ? -1 : (x.utf8.elementsEqual(y.utf8) ? 0 : 1)
    case (.bool(let x), .bool(let y)):
      order = x == y ? 0 : (!x ? -1 : 1)
    default:
      return .null
    }
    return .bool(RecordExpression.orderSatisfies(op, order))
  }
}
