/// Turns rule text into tokens, skipping whitespace and `--` comments.
///
/// The lexer never stops at bad input: it emits an `.invalid` token carrying the reason and goes on, so the parser
/// can report the problem with its location and still read the other rules in the file.
struct Lexer {
  private let bytes: [UInt8]
  private var index = 0
  private var line = 1
  private var column = 1

  init(_ source: String) {
    bytes = Array(source.utf8)
  }

  /// Reads every token, ending with one `.endOfFile`.
  mutating func tokenize() -> [Token] {
    var tokens: [Token] = []
    while true {
      let token = next()
      tokens.append(token)
      if token.kind == .endOfFile { return tokens }
    }
  }

  private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

  private func peek(_ ahead: Int) -> UInt8? {
    index + ahead < bytes.count ? bytes[index + ahead] : nil
  }

  private mutating func advance() {
    let byte = bytes[index]
    index += 1
    if byte == UInt8(ascii: "\n") {
      line += 1
      column = 1
    } else if byte & 0xC0 != 0x80 {
      column += 1
    }
  }

  private mutating func skipTrivia() {
    while let byte = current {
      if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n")
        || byte == UInt8(ascii: "\r")
      {
        advance()
      } else if byte == UInt8(ascii: "-"), peek(1) == UInt8(ascii: "-") {
        while let b = current, b != UInt8(ascii: "\n") { advance() }
      } else {
        return
      }
    }
  }

  private func text(_ start: Int) -> String {
    String(decoding: bytes[start..<index], as: UTF8.self)
  }

  private mutating func next() -> Token {
    skipTrivia()
    let location = SourceLocation(line: line, column: column)
    guard let byte = current else { return Token(kind: .endOfFile, text: "", location: location) }
    let start = index
    if Lexer.isIdentifierStart(byte) {
      while let b = current, Lexer.isIdentifierPart(b) { advance() }
      if let tooLong = Lexer.checkNameLength(index - start, text(start), location) { return tooLong }
      return Token(kind: .identifier, text: text(start), location: location)
    }
    if Lexer.isDigit(byte) { return number(location) }
    switch byte {
    case UInt8(ascii: "'"): return string(location)
    case UInt8(ascii: "\""), UInt8(ascii: "`"): return quotedIdentifier(close: byte, location)
    default: return symbol(byte, location)
    }
  }

  /// An `.invalid` token if a name is longer than names may be.
  private static func checkNameLength(_ length: Int, _ name: String, _ location: SourceLocation) -> Token? {
    guard length > RuleLimits.maximumNameBytes else { return nil }
    return Token(
      kind: .invalid,
      text: "the name '\(name.prefix(24))...' is \(length) bytes long; names are limited to \(RuleLimits.maximumNameBytes)",
      location: location)
  }

  private mutating func number(_ location: SourceLocation) -> Token {
    let start = index
    while let b = current, Lexer.isDigit(b) { advance() }
    if current == UInt8(ascii: "."), let after = peek(1), Lexer.isDigit(after) {
      advance()
      while let b = current, Lexer.isDigit(b) { advance() }
    }
    if let e = current, e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
      var ahead = 1
      if let sign = peek(1), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { ahead = 2 }
      if let digit = peek(ahead), Lexer.isDigit(digit) {
        for _ in 0..<ahead { advance() }
        while let b = current, Lexer.isDigit(b) { advance() }
      }
    }
    let numberText = text(start)
    guard numberText.utf8.count <= RuleLimits.maximumNumberCharacters else {
      return Token(
        kind: .invalid,
        text: "the number '\(numberText.prefix(24))...' has more than \(RuleLimits.maximumNumberCharacters) characters",
        location: location)
    }
    guard let value = Double(numberText) else {
      return Token(kind: .invalid, text: "number '\(numberText)' is out of range", location: location)
    }
    guard let u = current, Lexer.isIdentifierStart(u) else {
      // Double("1e999") is infinity, not nil: every literal must be a finite number.
      guard value.isFinite else {
        return Token(kind: .invalid, text: "number '\(numberText)' is out of range", location: location)
      }
      return Token(kind: .number(value), text: numberText, location: location)
    }
    let unitStart = index
    while let b = current, Lexer.isIdentifierPart(b) { advance() }
    let unit = text(unitStart)
    let scale: Double
    switch unit.lowercased() {
    case "ms": scale = 1
    case "s": scale = 1000
    case "m": scale = 60_000
    case "h": scale = 3_600_000
    case "d": scale = 86_400_000
    default:
      return Token(
        kind: .invalid, text: "unknown duration unit '\(unit.prefix(24))' in '\(text(start).prefix(48))'; use ms, s, m, h or d",
        location: location)
    }
    let limit = RuleLimits.maximumDurationMilliseconds
    guard let millis = Int64(exactly: (value * scale).rounded()), millis <= limit else {
      return Token(
        kind: .invalid,
        text: "duration '\(text(start))' is longer than the limit of \(RuleLimits.format(milliseconds: limit)) (100 years)",
        location: location)
    }
    return Token(kind: .duration(millis), text: text(start), location: location)
  }

  private mutating func string(_ location: SourceLocation) -> Token {
    let start = index
    advance()
    var content: [UInt8] = []
    while true {
      guard let b = current else {
        return Token(kind: .invalid, text: "unterminated string literal; close it with '", location: location)
      }
      advance()
      if b == UInt8(ascii: "'") {
        if current == UInt8(ascii: "'") {
          advance()
          content.append(b)
          continue
        }
        break
      }
      content.append(b)
    }
    guard content.count <= RuleLimits.maximumStringBytes else {
      return Token(
        kind: .invalid,
        text: "the string is \(content.count) bytes long; strings are limited to \(RuleLimits.maximumStringBytes)",
        location: location)
    }
    return Token(kind: .string(String(decoding: content, as: UTF8.self)), text: text(start), location: location)
  }

  private mutating func quotedIdentifier(close: UInt8, _ location: SourceLocation) -> Token {
    advance()
    let start = index
    while let b = current, b != close, b != UInt8(ascii: "\n") { advance() }
    guard current == close else {
      let quote = String(decoding: [close], as: UTF8.self)
      return Token(kind: .invalid, text: "unterminated quoted name; close it with \(quote)", location: location)
    }
    let name = text(start)
    let length = index - start
    advance()
    if name.isEmpty { return Token(kind: .invalid, text: "empty quoted name", location: location) }
    if let tooLong = Lexer.checkNameLength(length, name, location) { return tooLong }
    return Token(kind: .identifier, text: name, quoted: true, location: location)
  }

  private mutating func symbol(_ byte: UInt8, _ location: SourceLocation) -> Token {
    let pair: Token.Symbol? =
      switch (byte, peek(1)) {
      case (UInt8(ascii: "!"), UInt8(ascii: "=")): .notEqual
      case (UInt8(ascii: "<"), UInt8(ascii: ">")): .lessGreater
      case (UInt8(ascii: "<"), UInt8(ascii: "=")): .lessEqual
      case (UInt8(ascii: ">"), UInt8(ascii: "=")): .greaterEqual
      default: nil
      }
    if let pair {
      advance()
      advance()
      return Token(kind: .symbol(pair), text: pair.rawValue, location: location)
    }
    let scalar = String(decoding: [byte], as: UTF8.self)
    if byte < 0x80, let single = Token.Symbol(rawValue: scalar), single.rawValue.utf8.count == 1 {
      advance()
      return Token(kind: .symbol(single), text: scalar, location: location)
    }
    // Consume a whole UTF-8 sequence so the message names the character the person typed.
    let start = index
    advance()
    while let b = current, b & 0xC0 == 0x80 { advance() }
    return Token(kind: .invalid, text: "unexpected character '\(text(start))'", location: location)
  }

  static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

  static func isIdentifierStart(_ b: UInt8) -> Bool {
    (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
      || b == UInt8(ascii: "_")
  }

  static func isIdentifierPart(_ b: UInt8) -> Bool { isIdentifierStart(b) || isDigit(b) }
}
