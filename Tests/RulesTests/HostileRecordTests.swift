import Foundation
import Payload
import Testing

@testable import Rules

/// Whatever bytes a device sends, the engine skips, counts or evaluates the record; it never traps.
@Suite struct HostileRecordTests {
  /// (payload, expected `x` or nil for a malformed payload) through the field extractor.
  static let payloads: [(String, Value?)] = [
    (#"{"x":1,"x":2}"#, .number(1)),
    (#"{"x":{"y":1},"x":3}"#, .null),
    (#"{"x":[3],"x":3}"#, .null),
    (#"{"x":"\ud800"}"#, .string("\u{FFFD}")),
    (#"{"x":1e999999999999}"#, .null),
    (#"{"x":-1e-999999999999}"#, .number(-0.0)),
    (#"{"x":18446744073709551616123}"#, Double("18446744073709551616123").map(Value.number)),
    (#"{"x":tru}"#, nil),
    (#"{"x":nul,"y":1}"#, nil),
    (#"{"x":falsy}"#, nil),
    (#"{"x":-}"#, nil),
    (#"{"x":1."#, nil),
    ("{\"x\":\"unterminated\\\"}", nil),
    (#"{"y":"# + String(repeating: "[", count: 300) + "1" + String(repeating: "]", count: 300) + #","x":2}"#, nil),
    (
      #"{"y":"# + String(repeating: "[", count: 200) + "1" + String(repeating: "]", count: 200) + #","x":2}"#,
      .number(2)
    ),
  ]

  @Test(arguments: payloads)
  func fieldExtraction(_ payload: String, _ expected: Value?) {
    let got = FieldExtractionTests.extract(payload, [FieldPath([.key("x")])])
    #expect(got == expected.map { [$0] })
  }

  @Test func invalidUTF8IsRepairedNotFatal() throws {
    let feed = try Feeder("CREATE RULE r AS SELECT last(x) AS x FROM telemetry GROUP BY x, COUNT(1) RAISE ALERT 'i'")
    let payload: [UInt8] = Array(#"{"x":""#.utf8) + [0xFF, 0xC3, 0x28, 0xED, 0xA0, 0x80] + Array(#""}"#.utf8)
    var output = RuleOutput()
    payload.withUnsafeBytes { value in
      [0xFE, 0xFF].withUnsafeBytes { key in
        feed.engine.process(
          RuleInputRecord(partition: 0, offset: 0, timestamp: t0, key: key, value: value), topic: "telemetry",
          into: &output)
      }
    }
    let alert = try #require(output.alerts.first)
    #expect(alert["x"] == .string(String(decoding: [0xFF, 0xC3, 0x28, 0xED, 0xA0, 0x80], as: UTF8.self)))
    #expect(try JSONSerialization.jsonObject(with: Data(alert.json)) is [String: Any])
  }

  @Test func duplicateMembersDoNotHideLaterFields() {
    let paths = [FieldPath([.key("a")]), FieldPath([.key("b")])]
    #expect(FieldExtractionTests.extract(#"{"a":1,"a":2,"a":3,"b":4}"#, paths) == [.number(1), .number(4)])
    #expect(
      FieldExtractionTests.extract(#"{"a":{"c":1},"a":{"c":2},"b":5}"#, [FieldPath([.key("a"), .key("c")]), paths[1]])
        == [.number(1), .number(5)])
  }

  /// Numbers far longer than a double needs still parse to the correctly rounded double, in time linear in length.
  static let longNumbers: [(String, Double)] = [
    ("1" + String(repeating: "0", count: 100_000), Double.infinity),
    ("0." + String(repeating: "0", count: 100_000) + "1", 0),
    ("1." + String(repeating: "0", count: 5000) + "1", 1),
    ("9007199254740993" + String(repeating: "0", count: 2000) + "e-2000", 9_007_199_254_740_992),
    ("9007199254740993" + String(repeating: "0", count: 2000) + "1e-2001", 9_007_199_254_740_994),
    ("-" + String(repeating: "0", count: 3000) + "2.5", -2.5),
  ]

  @Test(arguments: longNumbers)
  func longNumber(_ text: String, _ expected: Double) {
    let got = FieldExtractionTests.extract("{\"x\":\(text)}", [FieldPath([.key("x")])])
    #expect(got == [expected.isFinite ? .number(expected) : .null])
  }

  /// A rule per window type, all reading the same fields: every record below goes through each of them.
  static let rules = """
    CREATE RULE a AS SELECT device, max(x) AS m, percentile(x, 0.5) AS p, forecast(x, 1h) AS f, rate(x) AS r,
      time_to_threshold(x, 100) AS ttt, first(device) AS d FROM telemetry GROUP BY device, HOPPING(10m, 1m)
      HAVING m > 0 RAISE ALERT 'w';
    CREATE RULE b AS SELECT count(*) AS n, ewma(x, 0.5) AS e FROM telemetry GROUP BY record_key(), SLIDING(1h)
      HAVING n > 0 RAISE ALERT 'w' WITH (lateness = 1d);
    CREATE RULE c AS SELECT count(*) AS n, slope(x) AS s FROM telemetry GROUP BY device, SESSION(1m) HAVING n > 0
      RAISE ALERT 'w' WITH (lateness = 36525d);
    CREATE RULE d AS SELECT sum(x) AS s, delta(x) AS dx FROM telemetry GROUP BY device, x, COUNT(2) HAVING s > 0
      RAISE ALERT 'w';
    CREATE RULE e AS SELECT max(record_time()) AS t FROM telemetry GROUP BY TUMBLING(36525d) RAISE ALERT 'w'
    """

  @Test func extremeTimestampsKeysAndPartitions() throws {
    let feed = try Feeder(HostileRecordTests.rules)
    let limit = RuleEngine.timestampLimit
    let times = [Int64.min, Int64.max, -limit, limit, -limit + 1, limit - 1, 0, -1, t0, t0 - 1, limit / 2, -limit / 2]
    let keys: [String?] = [nil, "", "k", "\u{FF}", String(repeating: "long", count: 10_000)]
    let values = ["1", "-1.5", "1e308", "-1e308", "\"text\"", "null", "true", "1e999"]
    var offset: Int64 = 0
    for (i, time) in times.enumerated() {
      for (j, key) in keys.enumerated() {
        let payload = #"{"device":"dev-\#(j)","x":\#(values[(i + j) % values.count])}"#
        feed.send(payload, at: time, key: key, offset: offset)
        offset += 1
      }
    }
    for partition in [Int32(-1), Int32.min, Int32.max, RuleLimits.maximumPartitions] {
      feed.send(#"{"x":1}"#, at: t0, partition: partition)
    }
    feed.send(#"{"x":1}"#, at: t0, partition: RuleLimits.maximumPartitions - 1)
    feed.closeAll()
    let stats = feed.engine.statistics
    #expect(stats.invalidTimestamps == Int64(4 * keys.count))
    #expect(stats.invalidPartitions == 4)
    #expect(feed.engine.lastOffset(topic: "telemetry", partition: RuleLimits.maximumPartitions - 1) == 0)
    #expect(Set(feed.alerts.map(\.rule)) == ["a", "b", "c", "d", "e"])
    for alert in feed.alerts {
      let object = try JSONSerialization.jsonObject(with: Data(alert.json)) as? [String: Any]
      #expect(object?["rule"] as? String == alert.rule)
      #expect(alert.windowStart >= -limit - RuleLimits.maximumDurationMilliseconds)
      #expect(alert.windowEnd <= limit + RuleLimits.maximumDurationMilliseconds)
    }
    // A checkpoint of all that restores to the same bytes.
    let copy = try RuleEngine(source: HostileRecordTests.rules, fileName: "r.sql", clock: ManualClock())
    try copy.restore(from: feed.engine.checkpoint())
    #expect(copy.checkpoint() == feed.engine.checkpoint())
  }

  /// Records in any order within the lateness give the windows sorted arrival gives (the window lists keep their
  /// order with binary searches).
  @Test(arguments: ["TUMBLING(1m)", "HOPPING(5m, 1m)", "HOPPING(7s, 3s)", "SESSION(20s)", "SLIDING(30s)"])
  func arrivalOrderDoesNotChangeWindows(_ window: String) throws {
    let rule = """
      CREATE RULE r AS SELECT count(*) AS n, sum(x) AS s, min(x) AS lo, max(x) AS hi FROM telemetry
        GROUP BY device, \(window) RAISE ALERT 'i' WITH (lateness = 36525d)
      """
    var random = SeededRandom(seed: 7)
    var records: [(time: Int64, x: Int)] = []
    var time = t0
    for i in 0..<600 {
      // Distinct times: a sliding window's records of one time are in arrival order, by definition.
      time += Int64.random(in: 1...40_000, using: &random)
      records.append((time, i))
    }
    func windows(_ order: [(time: Int64, x: Int)]) throws -> [String] {
      final class Box: @unchecked Sendable { var windows: [String] = [] }
      let box = Box()
      let feed = try Feeder(rule)
      feed.engine.observeWindows { _, _, start, end, values, _ in
        box.windows.append("\(start)-\(end): \(values.map(\.description).joined(separator: ","))")
      }
      for r in order { feed.send(#"{"device":"d","x":\#(r.x)}"#, at: r.time) }
      feed.closeAll()
      return box.windows.sorted()
    }
    let inOrder = try windows(records)
    #expect(inOrder.count > 100)
    #expect(try windows(records.reversed()) == inOrder)
    #expect(try windows(records.shuffled(using: &random)) == inOrder)
  }

  /// Thousands of open sessions, arriving newest first: each record costs a binary search, not a scan.
  @Test func manyOpenSessionsOutOfOrder() throws {
    let feed = try Feeder(
      "CREATE RULE r AS SELECT count(*) AS n FROM telemetry GROUP BY SESSION(1ms) RAISE ALERT 'i' WITH (lateness = 1d)")
    for i in (0..<30_000).reversed() { feed.send("{}", at: t0 + Int64(i) * 2) }
    feed.closeAll()
    #expect(feed.engine.statistics.rules[0].windowsClosed == 30_000)
  }
}
