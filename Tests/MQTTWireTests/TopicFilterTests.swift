import Testing

@testable import MQTTWire

/// MQTT 5.0 section 4.7's own examples, `$` topics and shared subscriptions.
@Suite struct TopicFilterTests {
  @Test(arguments: [
    ("sport/tennis/player1/#", "sport/tennis/player1", true),
    ("sport/tennis/player1/#", "sport/tennis/player1/ranking", true),
    ("sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true),
    ("sport/#", "sport", true), ("#", "sport/tennis", true), ("#", "/", true),
    ("sport/tennis/+", "sport/tennis/player1", true), ("sport/tennis/+", "sport/tennis/player1/ranking", false),
    ("sport/+", "sport", false), ("sport/+", "sport/", true), ("+/+", "/finance", true), ("/+", "/finance", true),
    ("+", "/finance", false), ("#", "$SYS/broker/uptime", false), ("+/monitor/Clients", "$SYS/monitor/Clients", false),
    ("$SYS/#", "$SYS/broker", true), ("$SYS/monitor/+", "$SYS/monitor/Clients", true),
    ("$share/hmi/sensors/+", "sensors/7", true), ("$share/hmi/sensors/+", "$share/hmi/sensors/7", false),
    ("a/b", "a/b", true), ("a/b", "a/bc", false), ("a//b", "a//b", true), ("a/+/b", "a//b", true),
  ])
  func matching(_ filter: String, _ topic: String, _ expected: Bool) {
    #expect(TopicFilter.problem(filter) == nil)
    #expect(TopicFilter(filter).matches(topic) == expected, "\(filter) against \(topic)")
  }

  @Test(arguments: [
    "", "sport/tennis#", "sport/tennis/#/ranking", "sport+", "+a", "$share/", "$share/g", "$share//x", "$share/g/",
    "$share/g+/x", "$share/g/a#",
  ])
  func refused(_ filter: String) {
    #expect(TopicFilter.problem(filter) != nil, "\(filter)")
  }

  /// `/`, `+` and `#` followed by a combining mark (U+0301) are one `Character` to Swift, but MQTT
  /// reads bytes: the level still ends there and the wildcard is still a wildcard.
  @Test func levelsAndWildcardsAreFoundByTheirBytes() {
    #expect(TopicFilter.problem("a/#\u{301}") != nil)
    #expect(TopicFilter.problem("a/+\u{301}") != nil)
    #expect(TopicFilter("a/\u{301}b").levels.count == 2)
    #expect(TopicFilter("a/\u{301}b").matches("a/\u{301}b"))
    #expect(TopicFilter("a/+").matches("a/\u{301}b"))
    #expect(!TopicFilter("a/\u{301}b").matches("a/b"))
    #expect(TopicFilter("$share/g/\u{301}x").shareGroup == "g")
  }

  @Test func sharedSubscriptionsKeepTheirGroup() {
    let f = TopicFilter("$share/hmi/plant/#")
    #expect(f.shareGroup == "hmi" && f.hasWildcard)
    #expect(TopicFilter("plant/a").shareGroup == nil && !TopicFilter("plant/a").hasWildcard)
  }
}
