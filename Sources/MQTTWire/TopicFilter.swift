/// An MQTT topic filter (`sensors/+/telemetry`, `plant/#`; MQTT 5.0 section 4.7), matched against
/// topic names without allocating. A shared subscription (`$share/{group}/{filter}`, section
/// 4.8.2) keeps its group apart and matches with the filter after it. Levels and wildcards are
/// found by their bytes, as in the topic names they match: a `/`, `+` or `#` followed by a
/// combining mark is one `Character` to Swift but still ends a level or is a wildcard to MQTT.
public struct TopicFilter: Sendable, Hashable {
  /// The filter as given (with any `$share/{group}/` prefix).
  public let text: String
  /// The shared subscription's group, nil for an ordinary filter.
  public let shareGroup: String?
  /// The levels matched against topic names (after any share prefix).
  let levels: [[UInt8]]

  /// A filter that passed ``problem(_:)``; one that did not never matches anything.
  public init(_ filter: String) {
    text = filter
    var rest = Substring(filter)
    if let share = Self.shareParts(filter) {
      shareGroup = String(share.group)
      rest = share.filter
    } else {
      shareGroup = nil
    }
    levels = Self.levels(rest).map { Array($0) }
  }

  /// The levels of `filter`, split at every `/` byte.
  static func levels(_ filter: Substring) -> [Substring.UTF8View.SubSequence] {
    filter.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
  }

  /// Why `filter` is not a valid topic filter, or nil: empty, `#` anywhere but as the whole last
  /// level, `+` not a whole level, or a share group that is empty or holds `/`, `+` or `#`.
  public static func problem(_ filter: String) -> String? {
    if filter.isEmpty { return "a topic filter cannot be empty" }
    var levels = Substring(filter)
    if filter.utf8.starts(with: sharePrefix.utf8) {
      guard let share = shareParts(filter) else {
        return
          "a shared subscription is $share/{group}/{filter}, with a group of at least one character and no wildcards, in '\(filter)'"
      }
      levels = share.filter
    }
    let parts = Self.levels(levels)
    let hash = UInt8(ascii: "#")
    let plus = UInt8(ascii: "+")
    for (i, p) in parts.enumerated() {
      if p.contains(hash) && (p.count != 1 || i != parts.count - 1) {
        return "'#' must be a whole last level in '\(filter)'"
      }
      if p.contains(plus) && p.count != 1 { return "'+' must be a whole level in '\(filter)'" }
    }
    return nil
  }

  static let sharePrefix = "$share/"

  /// `$share/{group}/{filter}` split, or nil when `text` is not a well-formed shared filter.
  static func shareParts(_ text: String) -> (group: Substring, filter: Substring)? {
    guard text.utf8.starts(with: sharePrefix.utf8) else { return nil }
    let afterPrefix = text[text.utf8.index(text.startIndex, offsetBy: sharePrefix.utf8.count)...]
    guard let slash = afterPrefix.utf8.firstIndex(of: UInt8(ascii: "/")) else { return nil }
    let group = afterPrefix[..<slash]
    let filter = afterPrefix[afterPrefix.utf8.index(after: slash)...]
    guard !group.isEmpty, !group.utf8.contains(UInt8(ascii: "+")), !group.utf8.contains(UInt8(ascii: "#")),
      !filter.isEmpty
    else { return nil }
    return (group, filter)
  }

  /// Whether the filter has a wildcard.
  public var hasWildcard: Bool { levels.contains { $0 == [UInt8(ascii: "+")] || $0 == [UInt8(ascii: "#")] } }

  /// Whether `topic` (a topic name, no wildcards) matches. A filter starting with a wildcard
  /// does not match a topic starting with `$` (section 4.7.2).
  public func matches(_ topic: UnsafeRawBufferPointer) -> Bool {
    var level = 0
    var start = 0
    let n = topic.count
    let dollar = n > 0 && topic[0] == UInt8(ascii: "$")
    var i = 0
    while true {
      if i == n || topic[i] == UInt8(ascii: "/") {
        guard level < levels.count else { return false }
        let want = levels[level]
        if want == [UInt8(ascii: "#")] { return !(level == 0 && dollar) }
        if want != [UInt8(ascii: "+")] {
          guard want.count == i - start else { return false }
          for k in 0..<want.count where want[k] != topic[start + k] { return false }
        } else if level == 0 && dollar {
          return false
        }
        level += 1
        if i == n { break }
        start = i + 1
      }
      i += 1
    }
    if level == levels.count { return true }
    // "a/#" also matches "a".
    return level == levels.count - 1 && levels[level] == [UInt8(ascii: "#")]
  }

  public func matches(_ topic: String) -> Bool {
    var topic = topic
    return topic.withUTF8 { matches(UnsafeRawBufferPointer($0)) }
  }

  /// The byte range of level `index` (0-based) of `topic`.
  public static func level(_ index: Int, of topic: UnsafeRawBufferPointer) -> Range<Int>? {
    var level = 0
    var start = 0
    for i in 0...topic.count {
      if i == topic.count || topic[i] == UInt8(ascii: "/") {
        if level == index { return start..<i }
        level += 1
        start = i + 1
      }
    }
    return nil
  }
}
