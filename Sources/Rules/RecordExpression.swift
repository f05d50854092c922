/// An expression compiled for evaluation against one record (WHERE, group keys, aggregate arguments).
indirect enum RecordExpression {
  case constant(Scalar)
  case text(TextConstant)
  case field(Int)
  case recordKey
  case recordTime
  case negate(RecordExpression)
  case not(RecordExpression)
  case arithmetic(BinaryOperator, RecordExpression, RecordExpression)
  case comparison(BinaryOperator, RecordExpression, RecordExpression)
  case and(RecordExpression, RecordExpression)
  case or(RecordExpression, RecordExpression)
  case inList(RecordExpression, [RecordExpression], negated: Bool)
  case between(RecordExpression, RecordExpression, RecordExpression, negated: Bool)
  case isNull(RecordExpression, negated: Bool)
  case caseWhen(subject: RecordExpression?, [(RecordExpression, RecordExpression)], otherwise: RecordExpression?)
  case function(ScalarFunction, [RecordExpression])

  /// The same expression with field slot `i` renumbered to `map[i]`.
  func remapped(_ map: [Int]) -> RecordExpression {
    switch self {
    case .constant, .text, .recordKey, .recordTime: self
    case .field(let i): .field(map[i])
    case .negate(let e): .negate(e.remapped(map))
    case .not(let e): .not(e.remapped(map))
    case .arithmetic(let op, let l, let r): .arithmetic(op, l.remapped(map), r.remapped(map))
    case .comparison(let op, let l, let r): .comparison(op, l.remapped(map), r.remapped(map))
    case .and(let l, let r): .and(l.remapped(map), r.remapped(map))
    case .or(let l, let r): .or(l.remapped(map), r.remapped(map))
    case .inList(let e, let list, let negated): .inList(e.remapped(map), list.map { $0.remapped(map) }, negated: negated)
    case .between(let e, let lo, let hi, let negated):
      .between(e.remapped(map), lo.remapped(map), hi.remapped(map), negated: negated)
    case .isNull(let e, let negated): .isNull(e.remapped(map), negated: negated)
    case .caseWhen(let subject, let branches, let otherwise):
      .caseWhen(
        subject: subject?.remapped(map), branches.map { ($0.0.remapped(map), $0.1.remapped(map)) },
        otherwise: otherwise?.remapped(map))
    case .function(let f, let args): .function(f, args.map { $0.remapped(map) })
    }
  }

  func evaluate(_ context: borrowing RecordContext) -> Scalar {
    switch self {
    case .constant(let s): return s
    case .text(let t): return t.scalar
    case .field(let i): return context.slots[i]
    case .recordKey:
      guard let key = context.key, let base = key.baseAddress else { return .null }
      return .text(base, key.count, escaped: false)
    case .recordTime: return .number(Double(context.timestamp))
    case .negate(let e):
      if case .number(let v) = e.evaluate(context) { return .number(-v) }
      return .null
    case .not(let e):
      if case .bool(let b) = e.evaluate(context) { return .bool(!b) }
      return .null
    case .arithmetic(let op, let l, let r):
      guard case .number(let x) = l.evaluate(context), case .number(let y) = r.evaluate(context) else { return .null }
      return RecordExpression.arithmetic(op, x, y)
    case .comparison(let op, let l, let r):
      return RecordExpression.compare(op, l.evaluate(context), r.evaluate(context))
    case .and(let l, let r):
      let a = l.evaluate(context)
      if case .bool(false) = a { return .bool(false) }
      let b = r.evaluate(context)
      if case .bool(false) = b { return .bool(false) }
      if case .bool(true) = a, case .bool(true) = b { return .bool(true) }
      return .null
    case .or(let l, let r):
      let a = l.evaluate(context)
      if case .bool(true) = a { return .bool(true) }
      let b = r.evaluate(context)
      if case .bool(true) = b { return .bool(true) }
      if case .bool(false) = a, case .bool(false) = b { return .bool(false) }
      return .null
    case .inList(let e, let list, let negated):
      let subject = e.evaluate(context)
      if subject.isNull { return .null }
      var sawNull = false
      for item in list {
        let candidate = item.evaluate(context)
        switch RecordExpression.compare(.equal, subject, candidate) {
        case .bool(true): return .bool(!negated)
        case .null: sawNull = true
        default: break
        }
      }
      return sawNull ? .null : .bool(negated)
    case .between(let e, let lo, let hi, let negated):
      let subject = e.evaluate(context)
      let a = RecordExpression.compare(.greaterEqual, subject, lo.evaluate(context))
      let b = RecordExpression.compare(.lessEqual, subject, hi.evaluate(context))
      guard case .bool(let x) = a, case .bool(let y) = b else { return .null }
      return .bool((x && y) != negated)
    case .isNull(let e, let negated):
      return .bool(e.evaluate(context).isNull != negated)
    case .caseWhen(let subject, let branches, let otherwise):
      let s = subject?.evaluate(context)
      for (condition, result) in branches {
        let c = condition.evaluate(context)
        let matched = s.map { RecordExpression.compare(.equal, $0, c).isTrue } ?? c.isTrue
        if matched { return result.evaluate(context) }
      }
      return otherwise?.evaluate(context) ?? .null
    case .function(let f, let args):
      if f == .coalesce {
        for arg in args {
          let v = arg.evaluate(context)
          if !v.isNull { return v }
        }
        return .null
      }
      guard case .number(let x) = args[0].evaluate(context) else { return .null }
      var y = 0.0
      if args.count > 1 {
        guard case .number(let v) = args[1].evaluate(context) else { return .null }
        y = v
      }
      let result = f.apply(x, y)
      return result.isFinite ? .number(result) : .null
    }
  }

  @inline(__always) static func arithmetic(_ op: BinaryOperator, _ x: Double, _ y: Double) -> Scalar {
    let v: Double
    switch op {
    case .add: v = x + y
    case .subtract: v = x - y
    case .multiply: v = x * y
    case .divide: v = x / y
    case .modulo: v = x.truncatingRemainder(dividingBy: y)
    default: return .null
    }
    return v.isFinite ? .number(v) : .null
  }

  @inline(__always) static func compare(_ op: BinaryOperator, _ a: Scalar, _ b: Scalar) -> Scalar {
    let order: Int
    switch (a, b) {
    case (.number(let x), .number(let y)):
      switch op {
      case .equal: return .bool(x == y)
      case .notEqual: return .bool(x != y)
      case .less: return .bool(x < y)
      case .lessEqual: return .bool(x <= y)
      case .greater: return .bool(x > y)
      case .greaterEqual: return .bool(x >= y)
      default: return .null
      }
    case (.text(let p, let n, let e), .text(let q, let m, let f)):
      order = Scalar.compareText(p, n, e, q, m, f)
    case (.bool(let x), .bool(let y)):
      order = x == y ? 0 : (!x ? -1 : 1)
    default:
      return .null
    }
    return .bool(orderSatisfies(op, order))
  }

  @inline(__always) static func orderSatisfies(_ op: BinaryOperator, _ order: Int) -> Bool {
    switch op {
    case .equal: order == 0
    case .notEqual: order != 0
    case .less: order < 0
    case .lessEqual: order <= 0
    case .greater: order > 0
    case .greaterEqual: order >= 0
    default: false
    }
  }
}

/// What a record expression can see: the extracted fields and the record's key and timestamp.
struct RecordContext: ~Copyable {
  let slots: UnsafeMutableBufferPointer<Scalar>
  let key: UnsafeRawBufferPointer?
  let timestamp: Int64
}
