/// An MQTT topic filter (`sensors/+/telemetry`, `plant/#`), matched against topics without
/// allocating.
struct TopicFilter: Sendable {
  let levels: [[UInt8]]
  let text: String

  init(_ filter: String) {
    text = filter
    levels = filter.split(separator: "/", omittingEmptySubsequences: false).map { Array($0.utf8) }
  }

  static func problem(_ filter: String) -> String? {
    if filter.isEmpty { return "a topic filter cannot be empty" }
    let parts = filter.split(separator: "/", omittingEmptySubsequences: false)
    for (i, p) in parts.enumerated() {
      if p.contains("#") && (p != "#" || i != parts.count - 1) {
        return "'#' must be a whole last level in '\(filter)'"
      }
      if p.contains("+") && p != "+" { return "'+' must be a whole level in '\(filter)'" }
    }
    return nil
  }

  func matches(_ topic: UnsafeRawBufferPointer) -> Bool {
    var level = 0
    var start = 0
    let n = topic.count
    var i = 0
    while true {
      if i == n || topic[i] == UInt8(ascii: "/") {
        guard level < levels.count else { return false }
        let want = levels[level]
        if want == [UInt8(ascii: "#")] { return !(level == 0 && n > 0 && topic[0] == UInt8(ascii: "$")) }
        if want != [UInt8(ascii: "+")] {
          guard want.count == i - start else { return false }
          for k in 0..<want.count where want[k] != topic[start + k] { return false }
        } else if level == 0 && n > 0 && topic[0] == UInt8(ascii: "$") {
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

  /// The byte range of level `index` (0-based) of `topic`.
  static func level(_ index: Int, of topic: UnsafeRawBufferPointer) -> Range<Int>? {
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
