import MQTTWire
import Testing

@testable import Ingest

@Suite struct DecodingTests {
  @Test(arguments: [
    ("1700000000123", false, TimeFormat.auto, Int64(1_700_000_000_123)),
    ("1700000000.5", false, .auto, 1_700_000_000_500),
    ("1700000000", false, .epochS, 1_700_000_000_000),
    ("1700000000123", false, .epochMs, 1_700_000_000_123),
    ("2023-11-14T22:13:20Z", true, .auto, 1_700_000_000_000),
    ("2023-11-14T22:13:20.123Z", true, .rfc3339, 1_700_000_000_123),
    ("2023-11-14T23:13:20.5+01:00", true, .rfc3339, 1_700_000_000_500),
    ("1970-01-01T00:00:00Z", true, .rfc3339, 0),
    ("2000-02-29T12:00:00-00:30", true, .rfc3339, 951_827_400_000),
    // Exact, in integer arithmetic: no digit goes through a double.
    ("1700000000.123456", false, .epochS, 1_700_000_000_123), ("1.7e12", false, .auto, 1_700_000_000_000),
    ("1700000000123.9", false, .epochMs, 1_700_000_000_123),
  ])
  func parsesTimestamps(_ text: String, _ isString: Bool, _ format: TimeFormat, _ expected: Int64) {
    Array(text.utf8).withUnsafeBytes { #expect(EpochTime.parse($0, isString: isString, format: format) == expected) }
  }

  @Test(arguments: [
    "2023-13-01T00:00:00Z", "2023-11-14 22:13", "yesterday", "2023-11-14T22:13:20", "1e999", "1e19", "-9.3e18",
    "2023-02-30T00:00:00Z",
  ])
  func rejectsBadTimestamps(_ text: String) {
    let isString = !text.hasPrefix("1e")
    Array(text.utf8).withUnsafeBytes { #expect(EpochTime.parse($0, isString: isString, format: .auto) == nil) }
  }

  @Test func topicFiltersMatchAsMQTTSays() {
    let cases: [(String, String, Bool)] = [
      ("sensors/+/telemetry", "sensors/motor-1/telemetry", true),
      ("sensors/+/telemetry", "sensors/motor-1/status", false),
      ("sensors/+/telemetry", "sensors/a/b/telemetry", false),
      ("sensors/#", "sensors", true),
      ("sensors/#", "sensors/a/b/c", true),
      ("#", "anything/at/all", true),
      ("#", "$SYS/broker", false),
      ("+/x", "$SYS/x", false),
      ("a/b", "a/b", true),
      ("a/b", "a/bc", false),
      ("a/+", "a/", true),
    ]
    for (filter, topic, expected) in cases {
      Array(topic.utf8).withUnsafeBytes {
        #expect(TopicFilter(filter).matches($0) == expected, "\(filter) vs \(topic)")
      }
    }
    #expect(TopicFilter.problem("a/#/b") != nil)
    #expect(TopicFilter.problem("a/b+") != nil)
    #expect(TopicFilter.problem("a/+/#") == nil)
  }

  @Test func keySourcesParse() {
    #expect(KeySource(parsing: "{1}") == .topicLevel(1))
    #expect(KeySource(parsing: "$.meta.id") == .field(["meta", "id"]))
    #expect(KeySource(parsing: "line-3") == .fixed("line-3"))
    #expect(KeySource(parsing: nil) == KeySource.none)
    Array("sensors/motor-7/telemetry".utf8).withUnsafeBytes { raw in
      #expect(TopicFilter.level(1, of: raw).map { String(decoding: raw[$0], as: UTF8.self) } == "motor-7")
      #expect(TopicFilter.level(3, of: raw) == nil)
    }
  }
}
