import Testing

@testable import MQTTWire

/// `overlaps` and `covers` between filters (what an ACL checks a SUBSCRIBE with), against a
/// brute-force oracle: the topics of a small alphabet that each filter matches.
@Suite struct TopicFilterRelationTests {
  @Test(arguments: [
    ("a/+", "+/b", true, false, false), ("a/#", "a", true, true, false), ("a/+", "a", false, false, false),
    ("a/#", "a/b/+", true, true, false), ("a/+", "a/b", true, true, false), ("a/+", "a/#", true, false, true),
    ("#", "$SYS/#", false, false, false), ("+/x", "$SYS/x", false, false, false),
    ("$SYS/#", "$SYS/x", true, true, false),
    ("#", "#", true, true, true), ("a/b", "a/c", false, false, false), ("+/+", "a/b", true, true, false),
    ("$share/g/a/#", "a/b", true, true, false),
  ])
  func relations(_ a: String, _ b: String, _ overlap: Bool, _ aCoversB: Bool, _ bCoversA: Bool) {
    let fa = TopicFilter(a)
    let fb = TopicFilter(b)
    #expect(fa.overlaps(fb) == overlap && fb.overlaps(fa) == overlap, "\(a) overlaps \(b)")
    #expect(fa.covers(fb) == aCoversB, "\(a) covers \(b)")
    #expect(fb.covers(fa) == bCoversA, "\(b) covers \(a)")
  }

  /// Every pair of filters over levels `a`, `b`, `$s`, `+`, `#` (up to three levels), checked
  /// against the topics of up to four levels over `a`, `b`, `$s`, `c` and the empty level.
  @Test func agreeWithMatchingOnEveryTopic() {
    let words = ["a", "b", "$s", "+", "#"]
    var filters: [String] = []
    func grow(_ prefix: [String], _ depth: Int) {
      if !prefix.isEmpty, TopicFilter.problem(prefix.joined(separator: "/")) == nil {
        filters.append(prefix.joined(separator: "/"))
      }
      guard depth < 3 else { return }
      for w in words { grow(prefix + [w], depth + 1) }
    }
    grow([], 0)
    var topics: [String] = []
    func topic(_ prefix: [String]) {
      if !prefix.isEmpty { topics.append(prefix.joined(separator: "/")) }
      guard prefix.count < 4 else { return }
      for w in ["a", "b", "$s", "c", ""] { topic(prefix + [w]) }
    }
    topic([])
    let matched = filters.map { f in Set(topics.filter { TopicFilter(f).matches($0) }) }
    var wrong: [String] = []
    for (i, a) in filters.enumerated() {
      for (j, b) in filters.enumerated() {
        let overlap = !matched[i].isDisjoint(with: matched[j])
        let covers = matched[j].isSubset(of: matched[i])
        // Topics one level deeper than the longest filter are enough: a `#` filter's deeper
        // topics are matched by another filter only if it ends in `#` too.
        if TopicFilter(a).overlaps(TopicFilter(b)) != overlap { wrong.append("\(a) overlaps \(b)") }
        if TopicFilter(a).covers(TopicFilter(b)) != covers { wrong.append("\(a) covers \(b)") }
      }
    }
    #expect(wrong.isEmpty, "\(wrong.count) disagreements, e.g. \(wrong.prefix(5))")
  }
}
