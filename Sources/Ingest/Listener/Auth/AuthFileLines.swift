import WeirCore

/// The line layer the listener's password and ACL files share (mosquitto's `password_file` and
/// `acl_file`): `\n`-separated lines (a `\r` before the `\n` is dropped), blanks and tabs around
/// a line ignored, blank lines and lines starting with `#` skipped. Bounds both files: at most
/// ``maxFileBytes`` in all and ``maxLineBytes`` a line; a longer line is a problem and skipped,
/// a larger file is one problem and nothing of it is read. Holds nothing but the text it reads.
public enum AuthFileLines {
  /// The largest password or ACL file: 1 MiB (ten thousand users' hashes take about 1.3 MiB
  /// only at the longest names; a typical line is 130 bytes).
  public static let maxFileBytes = 1 << 20
  /// The longest line: 65,535 bytes, the longest string MQTT carries (a user name, a topic).
  public static let maxLineBytes = 65_535

  /// Calls `body` with the 1-based number and the trimmed text of each line that is not blank or
  /// a comment; `body` returns what is wrong with the line, if anything. Returns those problems
  /// and the layer's own (size, line length), each with `file` and its line, in file order.
  /// `what` names the file in messages ("a password file").
  static func forEach(
    in text: String, file: String, what: String, _ body: (_ line: Int, _ text: Substring) -> String?
  ) -> [ConfigProblem] {
    var problems: [ConfigProblem] = []
    let size = text.utf8.count
    guard size <= maxFileBytes else {
      problems.append(
        ConfigProblem(
          file: file, line: 0, key: "",
          message: "the file is \(size) bytes; \(what) may have at most \(maxFileBytes) (1 MiB)"))
      return problems
    }
    var number = 0
    // Split on the byte: "\r\n" is one Character, which a split on "\n" would not see.
    for bytes in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
      number += 1
      let raw = Substring(bytes)
      if raw.utf8.count > maxLineBytes {
        problems.append(
          ConfigProblem(
            file: file, line: number, key: "",
            message: "the line is \(raw.utf8.count) bytes; a line may have at most \(maxLineBytes)"))
        continue
      }
      let line = trimmed(raw)
      if line.isEmpty || isComment(line) { continue }
      if let message = body(number, line) {
        problems.append(ConfigProblem(file: file, line: number, key: "", message: message))
      }
    }
    return problems
  }

  /// `text` without the blanks, tabs and `\r` around it. Delimiters here and in the files' parsers
  /// are found by Unicode scalar, not `Character`: a blank, `:` or `/` followed by a combining mark
  /// still delimits, as it does for mosquitto, which reads bytes.
  static func trimmed(_ text: Substring) -> Substring {
    func blank(_ c: Unicode.Scalar) -> Bool { c == " " || c == "\t" || c == "\r" }
    let scalars = text.unicodeScalars
    guard let first = scalars.firstIndex(where: { !blank($0) }), let last = scalars.lastIndex(where: { !blank($0) })
    else {
      return text[text.endIndex...]
    }
    return text[first...last]
  }

  /// Whether a trimmed line is a comment: it starts with a `#` byte.
  static func isComment(_ line: Substring) -> Bool { line.utf8.first == UInt8(ascii: "#") }

  /// The first word of `text` (up to a blank or tab) and what follows it, trimmed.
  static func word(_ text: Substring) -> (word: Substring, rest: Substring) {
    guard let end = text.unicodeScalars.firstIndex(where: { $0 == " " || $0 == "\t" }) else {
      return (text, text[text.endIndex...])
    }
    return (text[..<end], trimmed(text[end...]))
  }
}
