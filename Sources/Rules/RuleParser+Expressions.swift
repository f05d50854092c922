extension RuleParser {
  /// Parses an expression; precedence from loosest: OR, AND, NOT, comparisons/IN/BETWEEN/IS, + -, * / %, unary -.
  mutating func expression() throws(Failure) -> Expression {
    // Bounded so that a pathological file cannot exhaust the stack of the parser or of the evaluators.
    depth += 1
    defer { depth -= 1 }
    guard depth <= RuleLimits.maximumExpressionDepth else {
      throw failure("the expression nests more than \(RuleLimits.maximumExpressionDepth) levels deep; simplify it")
    }
    return try orExpression()
  }

  /// Builds an operator, call or CASE node, refusing a tree deeper than the limit: an operand can be deep itself
  /// (`(a + b + ...) * c`), so the parser's recursion depth alone does not bound the tree.
  func node(_ kind: Expression.Kind, at location: SourceLocation) throws(Failure) -> Expression {
    let expression = Expression(kind, at: location)
    guard expression.height <= RuleLimits.maximumExpressionDepth else {
      throw failure("the expression nests more than \(RuleLimits.maximumExpressionDepth) levels deep; simplify it")
    }
    return expression
  }

  private mutating func orExpression() throws(Failure) -> Expression {
    var lhs = try andExpression()
    var chain = 0
    while current.isKeyword("OR") {
      try checkChain(&chain)
      position += 1
      let rhs = try andExpression()
      lhs = try node(.binary(.or, lhs, rhs), at: lhs.location)
    }
    return lhs
  }

  private mutating func andExpression() throws(Failure) -> Expression {
    var lhs = try notExpression()
    var chain = 0
    while current.isKeyword("AND") {
      try checkChain(&chain)
      position += 1
      let rhs = try notExpression()
      lhs = try node(.binary(.and, lhs, rhs), at: lhs.location)
    }
    return lhs
  }

  private mutating func notExpression() throws(Failure) -> Expression {
    if current.isKeyword("NOT") {
      let location = take().location
      return try node(.unary(.not, try expressionBelowNot()), at: location)
    }
    return try predicate()
  }

  /// Each operator in a chain such as `a + b + c` deepens the tree by one; count it against the nesting limit.
  private func checkChain(_ chain: inout Int) throws(Failure) {
    chain += 1
    guard depth + chain <= RuleLimits.maximumExpressionDepth else {
      throw failure("the expression has more than \(RuleLimits.maximumExpressionDepth) operators in a row; simplify it")
    }
  }

  /// The operand of NOT, counted against the nesting limit like a parenthesis.
  private mutating func expressionBelowNot() throws(Failure) -> Expression {
    depth += 1
    defer { depth -= 1 }
    guard depth <= RuleLimits.maximumExpressionDepth else {
      throw failure("the expression nests more than \(RuleLimits.maximumExpressionDepth) levels deep; simplify it")
    }
    return try notExpression()
  }

  private mutating func predicate() throws(Failure) -> Expression {
    let lhs = try additive()
    let comparisons: [Token.Symbol: BinaryOperator] = [
      .equal: .equal, .notEqual: .notEqual, .lessGreater: .notEqual, .less: .less, .lessEqual: .lessEqual,
      .greater: .greater, .greaterEqual: .greaterEqual,
    ]
    if case .symbol(let symbol) = current.kind, let op = comparisons[symbol] {
      position += 1
      let rhs = try additive()
      return try node(.binary(op, lhs, rhs), at: lhs.location)
    }
    if current.isKeyword("IS") {
      position += 1
      let negated = accept(keyword: "NOT")
      try expect(keyword: "NULL", negated ? "after IS NOT" : "after IS")
      return try node(.isNull(lhs, negated: negated), at: lhs.location)
    }
    let negated: Bool
    if current.isKeyword("NOT"), tokens[position + 1].isKeyword("IN") || tokens[position + 1].isKeyword("BETWEEN") {
      position += 1
      negated = true
    } else {
      negated = false
    }
    if accept(keyword: "IN") {
      try expect(.leftParen, "after IN")
      var list: [Expression] = []
      repeat { list.append(try expression()) } while accept(.comma)
      try expect(.rightParen, "to close the IN list")
      return try node(.inList(lhs, list, negated: negated), at: lhs.location)
    }
    if accept(keyword: "BETWEEN") {
      let low = try additive()
      try expect(keyword: "AND", "between the bounds of BETWEEN")
      let high = try additive()
      return try node(.between(lhs, low: low, high: high, negated: negated), at: lhs.location)
    }
    return lhs
  }

  private mutating func additive() throws(Failure) -> Expression {
    var lhs = try multiplicative()
    var chain = 0
    while true {
      let op: BinaryOperator
      if current.isSymbol(.plus) { op = .add } else if current.isSymbol(.minus) { op = .subtract } else { return lhs }
      try checkChain(&chain)
      position += 1
      let rhs = try multiplicative()
      lhs = try node(.binary(op, lhs, rhs), at: lhs.location)
    }
  }

  private mutating func multiplicative() throws(Failure) -> Expression {
    var lhs = try unary()
    var chain = 0
    while true {
      let op: BinaryOperator
      if current.isSymbol(.star) {
        op = .multiply
      } else if current.isSymbol(.slash) {
        op = .divide
      } else if current.isSymbol(.percent) {
        op = .modulo
      } else {
        return lhs
      }
      try checkChain(&chain)
      position += 1
      let rhs = try unary()
      lhs = try node(.binary(op, lhs, rhs), at: lhs.location)
    }
  }

  private mutating func unary() throws(Failure) -> Expression {
    if current.isSymbol(.minus) {
      let location = take().location
      depth += 1
      defer { depth -= 1 }
      guard depth <= RuleLimits.maximumExpressionDepth else {
        throw failure("the expression nests more than \(RuleLimits.maximumExpressionDepth) levels deep; simplify it")
      }
      let operand = try unary()
      if case .number(let v) = operand.kind { return Expression(.number(-v), at: location) }
      return try node(.unary(.negate, operand), at: location)
    }
    if current.isSymbol(.plus) {
      position += 1
      depth += 1
      defer { depth -= 1 }
      guard depth <= RuleLimits.maximumExpressionDepth else {
        throw failure("the expression nests more than \(RuleLimits.maximumExpressionDepth) levels deep; simplify it")
      }
      return try unary()
    }
    return try primary()
  }

  private mutating func primary() throws(Failure) -> Expression {
    let token = current
    let location = token.location
    switch token.kind {
    case .number(let v):
      position += 1
      return Expression(.number(v), at: location)
    case .duration(let ms):
      position += 1
      return Expression(.duration(milliseconds: ms), at: location)
    case .string(let s):
      position += 1
      return Expression(.string(s), at: location)
    case .symbol(.leftParen):
      position += 1
      let inner = try expression()
      try expect(.rightParen, "to close the parenthesis")
      return inner
    case .identifier where !token.quoted:
      switch token.text.uppercased() {
      case "TRUE", "FALSE":
        position += 1
        return Expression(.boolean(token.text.uppercased() == "TRUE"), at: location)
      case "NULL":
        position += 1
        return Expression(.null, at: location)
      case "CASE": return try caseExpression()
      default: break
      }
    default: break
    }
    guard case .identifier = token.kind, token.quoted || !Token.reserved.contains(token.text.uppercased()) else {
      throw expected("an expression (a field, number, string, duration or function call)")
    }
    position += 1
    if !token.quoted, current.isSymbol(.leftParen) {
      position += 1
      return try call(name: token.text.lowercased(), at: location)
    }
    var components: [FieldPath.Component] = [.key(token.text)]
    while true {
      if accept(.dot) {
        guard case .identifier = current.kind, current.quoted || !Token.reserved.contains(current.text.uppercased())
        else { throw expected("a field name after '.' (quote names that are keywords: a.\"end\")") }
        components.append(.key(take().text))
      } else if accept(.leftBracket) {
        guard let index = wholeNumber(in: 0...RuleLimits.maximumArrayIndex) else {
          throw expected("an array index (0 to \(RuleLimits.maximumArrayIndex)) inside [ ]")
        }
        position += 1
        components.append(.index(index))
        try expect(.rightBracket, "to close the array index")
      } else {
        break
      }
    }
    return Expression(.field(FieldPath(components)), at: location)
  }

  private mutating func call(name: String, at location: SourceLocation) throws(Failure) -> Expression {
    if accept(.star) {
      try expect(.rightParen, "after '*'")
      return try node(.call(name: name, arguments: [], star: true), at: location)
    }
    var arguments: [Expression] = []
    if !accept(.rightParen) {
      repeat { arguments.append(try expression()) } while accept(.comma)
      try expect(.rightParen, "to close the arguments of \(name)(...)")
    }
    return try node(.call(name: name, arguments: arguments, star: false), at: location)
  }

  private mutating func caseExpression() throws(Failure) -> Expression {
    let location = take().location
    var subject: Expression?
    if !current.isKeyword("WHEN") { subject = try expression() }
    var branches: [Expression.CaseBranch] = []
    while accept(keyword: "WHEN") {
      let condition = try expression()
      try expect(keyword: "THEN", "after the WHEN condition")
      branches.append(.init(condition: condition, result: try expression()))
    }
    guard !branches.isEmpty else { throw expected("WHEN in CASE") }
    var otherwise: Expression?
    if accept(keyword: "ELSE") { otherwise = try expression() }
    try expect(keyword: "END", "to close CASE")
    return try node(.caseWhen(subject: subject, branches: branches, otherwise: otherwise), at: location)
  }
}
