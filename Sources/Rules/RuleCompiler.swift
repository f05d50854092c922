import Payload

/// The semantic pass from a `RuleDefinition` to a `CompiledRule`.
struct RuleCompiler {
  let definition: RuleDefinition
  let file: String
  var paths: [FieldPath] = []
  var inputs: [RecordExpression] = []
  var features: [InputFeatures] = []
  var alphas: [[Double]] = []
  var calls: [CompiledRule.AggregateCall] = []
  var aliases: [String] = []
  // Lookups by name, so a rule with thousands of items costs no quadratic search.
  var pathIndex: [FieldPath: Int] = [:]
  var inputIndex: [String: Int] = [:]
  var callIndex: [String: Int] = [:]
  var keyIndex: [String: Int] = [:]
  /// The tallest GROUP BY key: taller window expressions cannot be a key, so they are not printed to look.
  var keyHeight = 0
  var aliasIndex: [String: Int] = [:]

  init(definition: RuleDefinition, file: String) {
    self.definition = definition
    self.file = file
  }

  func error(_ message: String, at location: SourceLocation) -> RuleError {
    RuleError(code: .semantic, file: file, location: location, message: message, rule: definition.name)
  }

  mutating func compile() throws(RuleError) -> CompiledRule {
    let filter = try definition.filter.map { e throws(RuleError) in try record(e, clause: "WHERE") }
    var keys: [RecordExpression] = []
    for (i, key) in definition.groupKeys.enumerated() {
      keys.append(try record(key, clause: "GROUP BY"))
      if keyIndex[key.description] == nil { keyIndex[key.description] = i }
      keyHeight = max(keyHeight, key.height)
    }
    var select: [WindowExpression] = []
    for item in definition.select {
      if aliasIndex[item.alias] != nil {
        throw error(
          "the SELECT list names '\(item.alias)' twice; give one of them another name with AS",
          at: item.expression.location)
      }
      select.append(try window(item.expression, clause: "SELECT", aliasesVisible: false))
      aliasIndex[item.alias] = aliases.count
      aliases.append(item.alias)
    }
    let having = try definition.having.map { e throws(RuleError) in
      try window(e, clause: "HAVING", aliasesVisible: true)
    }
    return CompiledRule(
      definition: definition, paths: paths, filter: filter, keys: keys, inputs: inputs,
      layout: AccumulatorLayout(features: features, ewmaAlphas: alphas), calls: calls, select: select,
      aliases: aliases, having: having)
  }

  mutating func slot(_ path: FieldPath) -> Int {
    if let i = pathIndex[path] { return i }
    paths.append(path)
    pathIndex[path] = paths.count - 1
    return paths.count - 1
  }

  // MARK: - Per-record expressions

  mutating func record(_ e: Expression, clause: String) throws(RuleError) -> RecordExpression {
    switch e.kind {
    case .number(let v): return .constant(.number(v))
    case .duration(let ms): return .constant(.number(Double(ms) / 1000))
    case .string(let s): return .text(TextConstant(s))
    case .boolean(let b): return .constant(.bool(b))
    case .null: return .constant(.null)
    case .field(let path): return .field(slot(path))
    case .call(let name, let arguments, _):
      if AggregateFunction(rawValue: name) != nil {
        let advice = clause == "WHERE" ? "; conditions on aggregates belong in HAVING" : ""
        throw error("aggregate function \(name)() cannot be used in \(clause)\(advice)", at: e.location)
      }
      let function = try scalarFunction(name, arguments.count, at: e.location)
      switch function {
      case .recordKey: return .recordKey
      case .recordTime: return .recordTime
      default:
        var args: [RecordExpression] = []
        for a in arguments { args.append(try record(a, clause: clause)) }
        return .function(function, args)
      }
    case .unary(.negate, let x): return .negate(try record(x, clause: clause))
    case .unary(.not, let x): return .not(try record(x, clause: clause))
    case .binary(let op, let l, let r):
      let lhs = try record(l, clause: clause)
      let rhs = try record(r, clause: clause)
      switch op {
      case .and: return .and(lhs, rhs)
      case .or: return .or(lhs, rhs)
      case .add, .subtract, .multiply, .divide, .modulo: return .arithmetic(op, lhs, rhs)
      default: return .comparison(op, lhs, rhs)
      }
    case .inList(let x, let list, let negated):
      var items: [RecordExpression] = []
      for item in list { items.append(try record(item, clause: clause)) }
      return .inList(try record(x, clause: clause), items, negated: negated)
    case .between(let x, let low, let high, let negated):
      return .between(
        try record(x, clause: clause), try record(low, clause: clause), try record(high, clause: clause),
        negated: negated)
    case .isNull(let x, let negated): return .isNull(try record(x, clause: clause), negated: negated)
    case .caseWhen(let subject, let branches, let otherwise):
      let s = try subject.map { x throws(RuleError) in try record(x, clause: clause) }
      var compiled: [(RecordExpression, RecordExpression)] = []
      for b in branches {
        compiled.append((try record(b.condition, clause: clause), try record(b.result, clause: clause)))
      }
      let o = try otherwise.map { x throws(RuleError) in try record(x, clause: clause) }
      return .caseWhen(subject: s, compiled, otherwise: o)
    }
  }

  func scalarFunction(_ name: String, _ count: Int, at location: SourceLocation) throws(RuleError) -> ScalarFunction {
    guard let function = ScalarFunction(rawValue: name) else {
      let known = (AggregateFunction.allCases.map(\.rawValue) + ScalarFunction.allCases.map(\.rawValue)).sorted()
      throw error("unknown function '\(name)'; the functions are \(known.joined(separator: ", "))", at: location)
    }
    guard function.arity.contains(count) else {
      let expected =
        function.arity.lowerBound == function.arity.upperBound
        ? "\(function.arity.lowerBound)" : "\(function.arity.lowerBound) to \(function.arity.upperBound)"
      throw error("\(name)() takes \(expected) argument\(expected == "1" ? "" : "s"), not \(count)", at: location)
    }
    return function
  }

  // MARK: - Per-window expressions

  mutating func window(_ e: Expression, clause: String, aliasesVisible: Bool) throws(RuleError) -> WindowExpression {
    func sub(_ x: Expression) throws(RuleError) -> WindowExpression {
      try window(x, clause: clause, aliasesVisible: aliasesVisible)
    }
    if e.height <= keyHeight, let k = keyIndex[e.description] { return .keyPart(k) }
    switch e.kind {
    case .number(let v): return .constant(.number(v))
    case .duration(let ms): return .constant(.number(Double(ms) / 1000))
    case .string(let s): return .constant(.string(s))
    case .boolean(let b): return .constant(.bool(b))
    case .null: return .constant(.null)
    case .field(let path):
      if aliasesVisible, path.components.count == 1, case .key(let name) = path.components[0],
        let i = aliasIndex[name]
      {
        return .selectItem(i)
      }
      // A bare field outside an aggregate means its latest value in the window, as in eKuiper.
      return .aggregate(try aggregate(.last, argument: e, parameter: 0, star: false, name: "last(\(e))"))
    case .call(let name, let arguments, let star):
      if let function = AggregateFunction(rawValue: name) {
        return .aggregate(try aggregateCall(function, arguments, star: star, at: e))
      }
      let function = try scalarFunction(name, arguments.count, at: e.location)
      if function == .recordKey || function == .recordTime {
        throw error("\(name)() is per record; use it inside an aggregate or in GROUP BY", at: e.location)
      }
      var args: [WindowExpression] = []
      for a in arguments { args.append(try sub(a)) }
      return .function(function, args)
    case .unary(.negate, let x): return .negate(try sub(x))
    case .unary(.not, let x): return .not(try sub(x))
    case .binary(let op, let l, let r):
      let lhs = try sub(l)
      let rhs = try sub(r)
      switch op {
      case .and: return .and(lhs, rhs)
      case .or: return .or(lhs, rhs)
      case .add, .subtract, .multiply, .divide, .modulo: return .arithmetic(op, lhs, rhs)
      default: return .comparison(op, lhs, rhs)
      }
    case .inList(let x, let list, let negated):
      var items: [WindowExpression] = []
      for item in list { items.append(try sub(item)) }
      return .inList(try sub(x), items, negated: negated)
    case .between(let x, let low, let high, let negated):
      return .between(try sub(x), try sub(low), try sub(high), negated: negated)
    case .isNull(let x, let negated): return .isNull(try sub(x), negated: negated)
    case .caseWhen(let subject, let branches, let otherwise):
      let s = try subject.map { x throws(RuleError) in try sub(x) }
      var compiled: [(WindowExpression, WindowExpression)] = []
      for b in branches { compiled.append((try sub(b.condition), try sub(b.result))) }
      let o = try otherwise.map { x throws(RuleError) in try sub(x) }
      return .caseWhen(subject: s, compiled, otherwise: o)
    }
  }

  mutating func aggregateCall(
    _ function: AggregateFunction, _ arguments: [Expression], star: Bool, at e: Expression
  ) throws(RuleError) -> Int {
    let name = function.rawValue
    if star {
      guard function == .count else { throw error("only count accepts *; write \(name)(field)", at: e.location) }
      return try aggregate(.count, argument: nil, parameter: 0, star: true, name: "count(*)")
    }
    let wanted = function.parameterName == nil ? 1 : 2
    guard arguments.count == wanted else {
      let usage = function.parameterName.map { "\(name)(x, \($0))" } ?? "\(name)(x)"
      throw error(
        "\(name)() takes \(wanted) argument\(wanted == 1 ? "" : "s") (\(usage)), not \(arguments.count)", at: e.location
      )
    }
    var parameter = 0.0
    if let parameterName = function.parameterName {
      let p = arguments[1]
      switch p.kind {
      case .number(let v): parameter = v
      case .duration(let ms): parameter = Double(ms) / 1000
      default:
        throw error("the \(parameterName) of \(name)() must be a constant number or duration, not \(p)", at: p.location)
      }
      if function == .percentile, !(0...1).contains(parameter) {
        throw error(
          "the p of percentile() is a fraction between 0 and 1 (write 0.95 for the 95th percentile), not \(p)",
          at: p.location)
      }
      if function == .ewma, !(parameter > 0 && parameter <= 1) {
        throw error("the alpha of ewma() must be greater than 0 and at most 1, not \(p)", at: p.location)
      }
      let longest = RuleLimits.maximumDurationSeconds
      if function == .forecast, !(parameter.magnitude <= longest) {
        throw error(
          "the horizon of forecast() must be at most 100 years (\(Expression.format(longest)) seconds) either way, not \(p)",
          at: p.location)
      }
      if function == .timeToThreshold, !parameter.isFinite {
        throw error("the limit of time_to_threshold() must be a finite number, not \(p)", at: p.location)
      }
    }
    return try aggregate(function, argument: arguments[0], parameter: parameter, star: false, name: e.description)
  }

  mutating func aggregate(
    _ function: AggregateFunction, argument: Expression?, parameter: Double, star: Bool, name: String
  ) throws(RuleError) -> Int {
    if let i = callIndex[name] { return i }
    var input = 0
    if let argument {
      if let nested = RuleCompiler.firstAggregate(in: argument) {
        throw error(
          "aggregate functions cannot be nested; \(nested.description) is inside \(function.rawValue)()",
          at: nested.location)
      }
      let key = argument.description
      if let i = inputIndex[key] {
        input = i
      } else {
        inputs.append(try record(argument, clause: "an aggregate argument"))
        inputIndex[key] = inputs.count - 1
        features.append([])
        alphas.append([])
        input = inputs.count - 1
      }
      features[input].formUnion(function.features)
      if function == .ewma, !alphas[input].contains(parameter) { alphas[input].append(parameter) }
    }
    calls.append(.init(function: function, input: input, parameter: parameter, star: star))
    callIndex[name] = calls.count - 1
    return calls.count - 1
  }

  static func firstAggregate(in e: Expression) -> Expression? {
    switch e.kind {
    case .call(let name, let arguments, _):
      if AggregateFunction(rawValue: name) != nil { return e }
      return arguments.lazy.compactMap(firstAggregate).first
    case .unary(_, let x), .isNull(let x, _): return firstAggregate(in: x)
    case .binary(_, let l, let r): return firstAggregate(in: l) ?? firstAggregate(in: r)
    case .inList(let x, let list, _): return firstAggregate(in: x) ?? list.lazy.compactMap(firstAggregate).first
    case .between(let x, let lo, let hi, _):
      return firstAggregate(in: x) ?? firstAggregate(in: lo) ?? firstAggregate(in: hi)
    case .caseWhen(let s, let branches, let o):
      let parts = (s.map { [$0] } ?? []) + branches.flatMap { [$0.condition, $0.result] } + (o.map { [$0] } ?? [])
      return parts.lazy.compactMap(firstAggregate).first
    default: return nil
    }
  }
}
