extension PasswordFile {
  /// `text` (a password file) with `user`'s line replaced by `line`, or removed when `line` is nil;
  /// a user without a line gets `line` at the end. Every other line, comments and blank lines
  /// included, stays as it was. `found` says whether the user had a line (a second one for the
  /// same user, which ``parse(_:file:)`` refuses, goes too). What `weir passwd` writes.
  public static func editing(_ text: String, user: String, line: String?) -> (text: String, found: Bool) {
    var lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map {
      Substring($0)
    }
    // A final line break leaves an empty last piece: new lines go before it.
    let ends = lines.last?.isEmpty ?? false
    if ends { lines.removeLast() }
    var found = false
    var out: [Substring] = []
    for piece in lines {
      let trimmed = AuthFileLines.trimmed(piece)
      let colon = trimmed.utf8.firstIndex(of: UInt8(ascii: ":"))
      let isUser =
        !AuthFileLines.isComment(trimmed) && colon.map { trimmed[..<$0].utf8.elementsEqual(user.utf8) } == true
      guard isUser else {
        out.append(piece)
        continue
      }
      if !found, let line { out.append(Substring(line)) }
      found = true
    }
    if !found, let line { out.append(Substring(line)) }
    if out.isEmpty { return ("", found) }
    return (out.joined(separator: "\n") + "\n", found)
  }
}
