import Payload

/// Decodes CSV lines (RFC 4180 quoting, spaces around fields trimmed) into JSON objects with typed
/// values, the columns named by the configuration or by the first line read (the header). Field
/// ranges live in reused arrays and column names are encoded once, so a line allocates nothing.
/// Not thread-safe.
final class CSVLineDecoder {
  let delimiter: UInt8
  let usesHeader: Bool
  private let configured: [CSVColumn]
  /// `"name":` for each column, ready to append.
  private(set) var keys: [[UInt8]] = []
  private(set) var names: [String] = []
  private(set) var types: [CSVColumn.ColumnType] = []
  private var header: [UInt8]?
  private var fields: [Range<Int>] = []
  /// The field was quoted and contains `""` escapes.
  private var escaped: [Bool] = []
  private var quoted: [Bool] = []
  /// The last ``split(_:limit:)`` stopped at its limit.
  private var overLimit = false

  /// Columns a header may name. A record's size then stays a small multiple of its line's.
  static let maxColumns = 1024
  /// Bytes of one column name in a header.
  static let maxNameBytes = 256

  init(_ config: LineProtocolConfig) {
    delimiter = config.delimiter.utf8.first ?? UInt8(ascii: ",")
    usesHeader = config.csvHeader
    configured = config.columns
    if !usesHeader { setColumns(config.columns.map(\.name)) }
    fields.reserveCapacity(64)
    escaped.reserveCapacity(64)
    quoted.reserveCapacity(64)
  }

  /// The columns now in use (after the header line, when there is one).
  var columnNames: [String] { names }

  private func setColumns(_ headerNames: [String]) {
    // A repeated name gets the next free `_n` suffix; `seen` holds the next n to try for each.
    var seen: [String: Int] = [:]
    names = []
    names.reserveCapacity(headerNames.count)
    for (i, raw) in headerNames.enumerated() {
      var name = raw.isEmpty ? "column_\(i + 1)" : raw
      if let next = seen[name] {
        var n = next
        while seen[name + "_\(n)"] != nil { n += 1 }
        seen[name] = n + 1
        name += "_\(n)"
      }
      seen[name] = 2
      names.append(name)
    }
    keys = names.map { JSONWriter.encodeKey($0) }
    var typeOf: [String: CSVColumn.ColumnType] = [:]
    for column in configured where typeOf[column.name] == nil { typeOf[column.name] = column.type }
    types = names.map { typeOf[$0] ?? .auto }
  }

  func decode(_ line: UnsafeRawBufferPointer, into out: JSONWriter) -> LineOutcome {
    if usesHeader {
      guard let header else {
        if let problem = split(line, limit: Self.maxColumns) {
          return .reject(.unparsable, "header line: \(overLimit ? "more than \(Self.maxColumns) columns" : problem)")
        }
        if let long = fields.firstIndex(where: { $0.count > Self.maxNameBytes }) {
          return .reject(
            .unparsable, "header line: the name of column \(long + 1) is longer than \(Self.maxNameBytes) bytes")
        }
        guard let headerNames = decodedHeaderNames(line) else {
          return .reject(.invalidText, "header line is not UTF-8")
        }
        self.header = Array(line)
        setColumns(headerNames)
        return .skip
      }
      if header.count == line.count && header.elementsEqual(line) { return .skip }
    }
    if let problem = split(line, limit: keys.count) {
      return .reject(.unparsable, overLimit ? "expected \(keys.count) fields, got more" : problem)
    }
    guard fields.count == keys.count else {
      if fields.count == 1 && fields[0].isEmpty { return .skip }
      return .reject(.unparsable, "expected \(keys.count) fields, got \(fields.count)")
    }
    out.reset()
    out.beginObject()
    for i in 0..<fields.count {
      keys[i].withUnsafeBytes { out.encodedKey($0) }
      let text = UnsafeRawBufferPointer(rebasing: line[fields[i]])
      if let rejection = value(text, column: i, out: out) { return rejection }
    }
    out.endObject()
    return .record
  }

  /// Writes one typed value; the rejection when the text does not fit the column's type.
  @inline(__always)
  private func value(_ text: UnsafeRawBufferPointer, column i: Int, out: JSONWriter) -> LineOutcome? {
    let type = types[i]
    if text.isEmpty && !quoted[i] && type != .string {
      out.null()
      return nil
    }
    switch type {
    case .int:
      guard let v = DecimalText.int64(text) else { return mismatch(text, i, "a 64-bit int") }
      out.int(v)
    case .float:
      if out.decimalText(text) { return nil }
      if Self.isNotANumber(text) { out.null() } else { return mismatch(text, i, "a float within ±1.8e308") }
    case .bool:
      guard let b = Self.bool(text, strict: false) else { return mismatch(text, i, "a bool") }
      out.bool(b)
    case .string:
      if !string(text, column: i, out: out) { return .reject(.invalidText, "column '\(names[i])' is not UTF-8") }
    case .auto:
      if !quoted[i] {
        if let v = DecimalText.int64(text) {
          out.int(v)
          return nil
        }
        if out.decimalText(text) { return nil }
        if let b = Self.bool(text, strict: true) {
          out.bool(b)
          return nil
        }
      }
      if !string(text, column: i, out: out) { return .reject(.invalidText, "column '\(names[i])' is not UTF-8") }
    }
    return nil
  }

  private func mismatch(_ text: UnsafeRawBufferPointer, _ i: Int, _ type: StaticString) -> LineOutcome {
    .reject(.unparsable, "column '\(names[i])': '\(String(decoding: text.prefix(64), as: UTF8.self))' is not \(type)")
  }

  /// A string value; quoted fields have their `""` turned back into `"`.
  private func string(_ text: UnsafeRawBufferPointer, column i: Int, out: JSONWriter) -> Bool {
    guard escaped[i] else { return out.string(text) }
    out.beginString()
    var runStart = 0
    var j = 0
    while j < text.count {
      if text[j] == UInt8(ascii: "\"") && j + 1 < text.count && text[j + 1] == UInt8(ascii: "\"") {
        guard out.appendEscaped(UnsafeRawBufferPointer(rebasing: text[runStart...j])) else { return false }
        j += 2
        runStart = j
      } else {
        j += 1
      }
    }
    guard out.appendEscaped(UnsafeRawBufferPointer(rebasing: text[runStart...])) else { return false }
    out.endString()
    return true
  }

  /// Splits `line` into ``fields``; a description of the problem when the quoting is broken or
  /// there are more than `limit` fields (the rest is not looked at).
  private func split(_ line: UnsafeRawBufferPointer, limit: Int) -> String? {
    fields.removeAll(keepingCapacity: true)
    escaped.removeAll(keepingCapacity: true)
    quoted.removeAll(keepingCapacity: true)
    overLimit = false
    let n = line.count
    var i = 0
    while true {
      while i < n && (line[i] == 0x20 || line[i] == 0x09) && line[i] != delimiter { i += 1 }
      if i < n && line[i] == UInt8(ascii: "\"") {
        let start = i + 1
        var j = start
        var hasEscape = false
        var closed = false
        while j < n {
          if line[j] == UInt8(ascii: "\"") {
            if j + 1 < n && line[j + 1] == UInt8(ascii: "\"") {
              hasEscape = true
              j += 2
              continue
            }
            closed = true
            break
          }
          j += 1
        }
        guard closed else { return "unterminated quoted field \(fields.count + 1)" }
        fields.append(start..<j)
        escaped.append(hasEscape)
        quoted.append(true)
        i = j + 1
        while i < n && (line[i] == 0x20 || line[i] == 0x09) && line[i] != delimiter { i += 1 }
        if i < n && line[i] != delimiter { return "text after the closing quote of field \(fields.count)" }
      } else {
        let start = i
        while i < n && line[i] != delimiter { i += 1 }
        var end = i
        while end > start && (line[end - 1] == 0x20 || line[end - 1] == 0x09) { end -= 1 }
        fields.append(start..<end)
        escaped.append(false)
        quoted.append(false)
      }
      if i >= n { return nil }
      if fields.count >= limit {
        overLimit = true
        return "more than \(limit) fields"
      }
      i += 1  // the delimiter
    }
  }

  private func decodedHeaderNames(_ line: UnsafeRawBufferPointer) -> [String]? {
    var result: [String] = []
    for (i, range) in fields.enumerated() {
      let raw = UnsafeRawBufferPointer(rebasing: line[range])
      guard let text = String(validating: raw, as: UTF8.self) else { return nil }
      result.append(escaped[i] ? Self.unescapeQuotes(text) : text)
    }
    return result
  }

  static func unescapeQuotes(_ text: String) -> String {
    var result = ""
    var previousWasQuote = false
    for c in text {
      if c == "\"" && previousWasQuote {
        previousWasQuote = false
        continue
      }
      previousWasQuote = c == "\""
      result.append(c)
    }
    return result
  }

  /// `true`, `false` (any case) and, unless strict, `1`/`0`, `yes`/`no`, `on`/`off`, `t`/`f`, `y`/`n`.
  static func bool(_ text: UnsafeRawBufferPointer, strict: Bool) -> Bool? {
    guard text.count <= 5 else { return nil }
    var word: UInt64 = 0
    for b in text { word = word << 8 | UInt64(lowercased(b)) }
    switch word {
    case 0x74_72_75_65: return true  // true
    case 0x66_61_6C_73_65: return false  // false
    default: break
    }
    if strict { return nil }
    switch word {
    case 0x31, 0x79_65_73, 0x6F_6E, 0x74, 0x79: return true  // 1 yes on t y
    case 0x30, 0x6E_6F, 0x6F_66_66, 0x66, 0x6E: return false  // 0 no off f n
    default: return nil
    }
  }

  @inline(__always)
  static func lowercased(_ b: UInt8) -> UInt8 {
    b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") ? b | 0x20 : b
  }

  /// `nan`, `inf`, `infinity` with an optional sign, any case: sensors print these for a failed reading.
  static func isNotANumber(_ text: UnsafeRawBufferPointer) -> Bool {
    var start = 0
    if let first = text.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") { start = 1 }
    func equals(_ word: StaticString) -> Bool {
      guard text.count - start == word.utf8CodeUnitCount else { return false }
      for j in 0..<word.utf8CodeUnitCount where lowercased(text[start + j]) != word.utf8Start[j] { return false }
      return true
    }
    return equals("nan") || equals("inf") || equals("infinity")
  }
}
