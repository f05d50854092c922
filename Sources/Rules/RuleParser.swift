/// A hand-written recursive-descent parser for rule files.
///
/// A file holds `CREATE RULE` statements separated by `;`. A statement with an error is reported and skipped up to
/// the next `;`, so one broken rule does not hide the others.
struct RuleParser {
  /// Thrown inside a statement; caught at the statement boundary.
  struct Failure: Error {
    var error: RuleError
  }

  let file: String
  private(set) var tokens: [Token]
  var position = 0
  var ruleName: String?
  var depth = 0

  init(source: String, file: String) {
    var lexer = Lexer(source)
    self.tokens = lexer.tokenize()
    self.file = file
  }

  /// Parses every statement; returns the rules that parsed and the errors of those that did not.
  static func parse(_ source: String, file: String) -> (rules: [RuleDefinition], errors: [RuleError]) {
    let size = source.utf8.count
    guard size <= RuleLimits.maximumSourceBytes else {
      let message =
        "the rule file is \(size) bytes; rule files are limited to \(RuleLimits.maximumSourceBytes) bytes (1 MiB): "
        + "split it into several files"
      return ([], [RuleError(code: .lexical, file: file, location: SourceLocation(line: 1, column: 1), message: message)])
    }
    var parser = RuleParser(source: source, file: file)
    var rules: [RuleDefinition] = []
    var errors: [RuleError] = []
    var statements = 0
    while true {
      while parser.current.isSymbol(.semicolon) { parser.position += 1 }
      if parser.current.kind == .endOfFile { break }
      statements += 1
      guard statements <= RuleLimits.maximumRules else {
        errors.append(
          RuleError(
            code: .semantic, file: file, location: parser.current.location,
            message: "the file has more than \(RuleLimits.maximumRules) rules; the rules from here on are not loaded"))
        break
      }
      let start = parser.position
      parser.ruleName = nil
      do {
        rules.append(try parser.statement())
      } catch {
        errors.append(error.error)
        parser.skipStatement(from: start)
      }
    }
    return (rules, errors)
  }

  var current: Token { tokens[position] }

  private mutating func skipStatement(from start: Int) {
    if position == start, current.kind != .endOfFile { position += 1 }
    while current.kind != .endOfFile, !current.isSymbol(.semicolon) { position += 1 }
  }

  // MARK: - Errors

  func failure(_ message: String, at token: Token? = nil, code: RuleError.Code = .syntax) -> Failure {
    let token = token ?? current
    if case .invalid = token.kind {
      return Failure(
        error: RuleError(code: .lexical, file: file, location: token.location, message: token.text, rule: ruleName))
    }
    return Failure(error: RuleError(code: code, file: file, location: token.location, message: message, rule: ruleName))
  }

  func expected(_ what: String) -> Failure {
    failure("expected \(what), found \(current.displayName)")
  }

  // MARK: - Token helpers

  mutating func take() -> Token {
    let token = tokens[position]
    if token.kind != .endOfFile { position += 1 }
    return token
  }

  mutating func accept(keyword: String) -> Bool {
    guard current.isKeyword(keyword) else { return false }
    position += 1
    return true
  }

  mutating func accept(_ symbol: Token.Symbol) -> Bool {
    guard current.isSymbol(symbol) else { return false }
    position += 1
    return true
  }

  mutating func expect(keyword: String, _ context: String) throws(Failure) {
    guard accept(keyword: keyword) else { throw expected("\(keyword) \(context)") }
  }

  mutating func expect(_ symbol: Token.Symbol, _ context: String) throws(Failure) {
    guard accept(symbol) else { throw expected("'\(symbol.rawValue)' \(context)") }
  }

  mutating func name(_ what: String) throws(Failure) -> String {
    guard case .identifier = current.kind, current.quoted || !Token.reserved.contains(current.text.uppercased()) else {
      throw expected(what)
    }
    return take().text
  }

  // MARK: - Statements

  private mutating func statement() throws(Failure) -> RuleDefinition {
    let start = position
    let location = current.location
    try expect(keyword: "CREATE", "to start a rule")
    try expect(keyword: "RULE", "after CREATE")
    let name = try self.name("a rule name after CREATE RULE")
    ruleName = name
    var options = RuleOptions()
    if accept(keyword: "WITH") { options = try self.options(options) }
    try expect(keyword: "AS", "after the rule name")
    try expect(keyword: "SELECT", "after AS")
    let select = try selectList()
    try expect(keyword: "FROM", "after the SELECT list")
    let topic = try topicName()
    var filter: Expression?
    if accept(keyword: "WHERE") { filter = try expression() }
    try expect(keyword: "GROUP", "(every rule needs GROUP BY with a window)")
    try expect(keyword: "BY", "after GROUP")
    let (keys, window) = try groupBy()
    var having: Expression?
    if accept(keyword: "HAVING") { having = try expression() }
    try expect(keyword: "RAISE", "(every rule ends with RAISE ALERT 'severity')")
    try expect(keyword: "ALERT", "after RAISE")
    guard case .string(let severity) = current.kind else { throw expected("a severity string such as 'warning'") }
    position += 1
    var message: String?
    if accept(keyword: "MESSAGE") {
      guard case .string(let text) = current.kind else { throw expected("a message string after MESSAGE") }
      position += 1
      message = text
    }
    var clearAfter = 1
    if accept(keyword: "CLEAR") {
      try expect(keyword: "AFTER", "after CLEAR")
      guard let n = wholeNumber(in: 1...RuleLimits.maximumClearAfterWindows) else {
        throw expected("a whole number of windows (1 to \(RuleLimits.maximumClearAfterWindows)) after CLEAR AFTER")
      }
      position += 1
      clearAfter = n
      guard accept(keyword: "WINDOWS") || accept(keyword: "WINDOW") else { throw expected("WINDOWS after the count") }
    }
    if accept(keyword: "WITH") { options = try self.options(options) }
    guard current.isSymbol(.semicolon) || current.kind == .endOfFile else {
      throw expected("';' or the end of the file after the rule")
    }
    let fingerprint = tokens[start..<position].map { token -> String in
      token.quoted ? "\"\(token.text)\"" : token.text
    }.joined(separator: " ")
    return RuleDefinition(
      name: name, select: select, topic: topic, filter: filter, groupKeys: keys, window: window, having: having,
      alert: AlertSpec(severity: severity, message: message, clearAfterWindows: clearAfter), options: options,
      location: location, fingerprint: fingerprint)
  }

  private mutating func selectList() throws(Failure) -> [RuleDefinition.SelectItem] {
    var items: [RuleDefinition.SelectItem] = []
    repeat {
      let expression = try self.expression()
      var alias = expression.description
      if case .field(let path) = expression.kind { alias = path.description }
      if accept(keyword: "AS") { alias = try name("a name after AS") }
      items.append(.init(expression: expression, alias: alias))
    } while accept(.comma)
    return items
  }

  private mutating func topicName() throws(Failure) -> String {
    if case .string(let text) = current.kind {
      position += 1
      return text
    }
    var text = try name("a topic name after FROM")
    // Topic names such as `plant.line-1` are written unquoted in practice; glue their pieces back together.
    while current.isSymbol(.dot) || current.isSymbol(.minus) {
      let separator = take().text
      switch current.kind {
      case .identifier where current.quoted || !Token.reserved.contains(current.text.uppercased()):
        text += separator + take().text
      case .number: text += separator + take().text
      default: throw expected("the rest of the topic name after '\(separator)'")
      }
    }
    return text
  }

  private mutating func groupBy() throws(Failure) -> ([Expression], WindowSpec) {
    var keys: [Expression] = []
    var window: WindowSpec?
    repeat {
      if let spec = try windowCall() {
        if window != nil {
          throw failure("a rule has one window; remove the second window here", at: tokens[position - 1])
        }
        window = spec
      } else {
        keys.append(try expression())
      }
    } while accept(.comma)
    guard let window else {
      throw expected("a window in GROUP BY: TUMBLING(size), HOPPING(size, advance), SLIDING(size), SESSION(gap) or COUNT(n)")
    }
    return (keys, window)
  }

  private mutating func windowCall() throws(Failure) -> WindowSpec? {
    guard case .identifier = current.kind, !current.quoted, tokens[position + 1].isSymbol(.leftParen) else { return nil }
    let kind = current.text.uppercased()
    guard ["TUMBLING", "HOPPING", "SLIDING", "SESSION", "COUNT"].contains(kind) else { return nil }
    let windowToken = current
    position += 2
    let spec: WindowSpec
    switch kind {
    case "TUMBLING": spec = .tumbling(size: try duration("the window size of TUMBLING"))
    case "HOPPING":
      let size = try duration("the window size of HOPPING")
      try expect(.comma, "between the size and the advance of HOPPING(size, advance)")
      let advanceToken = current
      let advance = try duration("the advance of HOPPING")
      guard advance <= size else {
        throw failure("the advance of HOPPING must not be larger than its size", at: advanceToken, code: .semantic)
      }
      let panes = PanedWindows.panesPerWindow(size: size, advance: advance)
      guard panes <= RuleLimits.maximumPanesPerWindow else {
        let shown = "HOPPING(\(RuleLimits.format(milliseconds: size)), \(RuleLimits.format(milliseconds: advance)))"
        throw failure(
          "\(shown) builds each window from \(panes) panes (size / gcd(size, advance)); the limit is "
            + "\(RuleLimits.maximumPanesPerWindow): use a longer advance, or a size that is a multiple of it",
          at: windowToken, code: .semantic)
      }
      spec = .hopping(size: size, advance: advance)
    case "SLIDING": spec = .sliding(size: try duration("the window size of SLIDING"))
    case "SESSION": spec = .session(gap: try duration("the gap of SESSION"))
    default:
      guard let n = wholeNumber(in: 1...RuleLimits.maximumCountWindow) else {
        throw expected("a whole number of records (1 to \(RuleLimits.maximumCountWindow)) for COUNT")
      }
      position += 1
      spec = .count(n)
    }
    try expect(.rightParen, "to close the window")
    return spec
  }

  /// The current token as a whole number in `range`, or nil (checked: no literal can trap the conversion).
  func wholeNumber(in range: ClosedRange<Int>) -> Int? {
    guard case .number(let n) = current.kind, let whole = Int(exactly: n), range.contains(whole) else { return nil }
    return whole
  }

  mutating func duration(_ what: String) throws(Failure) -> Int64 {
    guard case .duration(let ms) = current.kind else { throw expected("a duration such as 30s, 10m or 2h for \(what)") }
    guard ms > 0 else { throw failure("\(what) must be longer than 0", code: .semantic) }
    position += 1
    return ms
  }

  private mutating func options(_ initial: RuleOptions) throws(Failure) -> RuleOptions {
    var options = initial
    try expect(.leftParen, "after WITH")
    repeat {
      let nameToken = current
      let option = try name("an option name (lateness, idle_timeout or late)")
      try expect(.equal, "after the option name")
      switch option.lowercased() {
      case "lateness":
        guard case .duration(let ms) = current.kind else { throw expected("a duration such as 30s for lateness") }
        position += 1
        options.latenessMilliseconds = ms
      case "idle_timeout":
        options.idleTimeoutMilliseconds = try duration("idle_timeout")
      case "late":
        guard case .string(let text) = current.kind else {
          throw expected("'drop' or 'topic:NAME' for late")
        }
        if text == "drop" {
          options.late = .drop
        } else if text.hasPrefix("topic:"), text.count > 6 {
          options.late = .topic(String(text.dropFirst(6)))
        } else {
          throw failure("late must be 'drop' or 'topic:NAME', not '\(text)'", code: .semantic)
        }
        position += 1
      default:
        throw failure(
          "unknown option '\(option)'; the options are lateness, idle_timeout and late", at: nameToken, code: .semantic)
      }
    } while accept(.comma)
    try expect(.rightParen, "to close WITH (...)")
    return options
  }
}
