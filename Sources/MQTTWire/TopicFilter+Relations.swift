/// How two topic filters relate over the topic names they match (an ACL's rule against the filter a
/// client subscribes to). Both compare the levels after any `$share/{group}/` prefix, and both
/// know that a filter starting with a wildcard matches no topic starting with `$` (MQTT 5.0
/// section 4.7.2), so `#` neither overlaps nor covers `$SYS/#`. Neither allocates.
extension TopicFilter {
  /// Whether some topic name matches both filters: `a/+` and `+/b` overlap (`a/b`), `a/#` and
  /// `a` do (`a`), `a/+` and `a` do not.
  public func overlaps(_ other: TopicFilter) -> Bool {
    let a = levels
    let b = other.levels
    if Self.dollarMismatch(a, b) || Self.dollarMismatch(b, a) { return false }
    var i = 0
    while true {
      if i < a.count && a[i] == Self.multiLevel { return true }
      if i < b.count && b[i] == Self.multiLevel { return true }
      if i == a.count || i == b.count { return i == a.count && i == b.count }
      if a[i] != Self.singleLevel && b[i] != Self.singleLevel && a[i] != b[i] { return false }
      i += 1
    }
  }

  /// Whether every topic name `other` matches, this filter matches too: `a/#` covers `a/b/+` and
  /// `a`; `a/+` covers `a/b` but not `a/#` (which matches `a` and `a/b/c`); a filter covers itself.
  public func covers(_ other: TopicFilter) -> Bool {
    let a = levels
    let b = other.levels
    if Self.dollarMismatch(a, b) { return false }
    var i = 0
    while true {
      if i < a.count && a[i] == Self.multiLevel { return true }
      if i == b.count { return i == a.count }
      if i == a.count { return false }
      // `b` also matches the topic of its first i levels: only `#` covers that, but for i = 0
      // (there is no such topic), where `+/#` is `#` too.
      if b[i] == Self.multiLevel { return i == 0 && a == [Self.singleLevel, Self.multiLevel] }
      if a[i] == Self.singleLevel {
        i += 1
        continue
      }
      if b[i] == Self.singleLevel || a[i] != b[i] { return false }
      i += 1
    }
  }

  static let singleLevel: [UInt8] = [UInt8(ascii: "+")]
  static let multiLevel: [UInt8] = [UInt8(ascii: "#")]

  /// `a` starts with a wildcard and `b` with a literal `$` level: none of `b`'s topics is `a`'s.
  private static func dollarMismatch(_ a: [[UInt8]], _ b: [[UInt8]]) -> Bool {
    guard let first = a.first, first == singleLevel || first == multiLevel, let other = b.first else { return false }
    return other.first == UInt8(ascii: "$")
  }
}
