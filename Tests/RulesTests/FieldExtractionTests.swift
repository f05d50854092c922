import Payload
import Testing

@testable import Rules

@Suite struct FieldExtractionTests {
  static func extract(_ payload: String, _ paths: [FieldPath]) -> [Value]? {
    let fields = TopicPlan.fields(paths)
    let slots = UnsafeMutableBufferPointer<Scalar>.allocate(capacity: max(1, paths.count))
    defer { slots.deallocate() }
    let bytes = Array(payload.utf8)
    return bytes.withUnsafeBytes { raw in
      guard TopicPlan.extract(raw, fields, into: slots) else { return nil }
      return (0..<paths.count).map { slots[$0].value }
    }
  }

  static func path(_ text: String) -> FieldPath {
    var components: [FieldPath.Component] = []
    for part in text.split(separator: ".") {
      if let open = part.firstIndex(of: "[") {
        components.append(.key(String(part[..<open])))
        components.append(.index(Int(part[part.index(after: open)..<part.index(before: part.endIndex)])!))
      } else {
        components.append(.key(String(part)))
      }
    }
    return FieldPath(components)
  }

  /// (payload, path, value) — one field at a time.
  static let cases: [(String, String, Value)] = [
    (#"{"a":1}"#, "a", .number(1)),
    (#"{"a":-0.5e-3}"#, "a", .number(-0.0005)),
    (#"{"a":1E+2}"#, "a", .number(100)),
    (#"{"a":123456789012345678901234}"#, "a", .number(1.2345678901234568e23)),
    (#"{"a":0.1}"#, "a", .number(0.1)),
    (#"{"a":3.141592653589793}"#, "a", .number(3.141592653589793)),
    (#"{"a":1e400}"#, "a", .null),
    (#" { "a" : "x y" } "#, "a", .string("x y")),
    (#"{"a":"tab\there \"q\" \u00e9 \ud83d\ude00"}"#, "a", .string("tab\there \"q\" é 😀")),
    (#"{"a":true,"b":false}"#, "b", .bool(false)),
    (#"{"a":null}"#, "a", .null),
    (#"{"b":1}"#, "a", .null),
    (#"{"a":{"b":{"c":7}}}"#, "a.b.c", .number(7)),
    (#"{"a":{"b":[1,{"c":[5,6]}]}}"#, "a.b[1].c[1]", .number(6)),
    (#"{"x":[1,2],"axes":[0.5,-1.5,2.5]}"#, "axes[2]", .number(2.5)),
    (#"{"axes":[0.5]}"#, "axes[3]", .null),
    (#"{"skip":{"deep":[{"a":1},"}]"],"s":"{\"a\":2}"},"a":3}"#, "a", .number(3)),
    (#"{"a\u0062":4}"#, "ab", .number(4)),
    (#"{"a":{"b":1}}"#, "a", .null),
    (#"[1,2]"#, "a", .null),
  ]

  @Test(arguments: cases)
  func field(_ payload: String, _ path: String, _ expected: Value) {
    #expect(FieldExtractionTests.extract(payload, [FieldExtractionTests.path(path)]) == [expected])
  }

  @Test func severalPathsInOneScan() {
    let paths = ["device", "motor.bearing.temp", "axes[0]", "kind", "missing"].map(FieldExtractionTests.path)
    let payload = #"{"device":"m-1","motor":{"bearing":{"temp":81.5},"rpm":1500},"axes":[0.1,0.2],"kind":"motor"}"#
    #expect(
      FieldExtractionTests.extract(payload, paths) == [
        .string("m-1"), .number(81.5), .number(0.1), .string("motor"), .null,
      ])
  }

  /// Malformed payloads are reported, unless every field was found before the damage (the scan stops there).
  @Test(arguments: [
    (#"{"a":"#, false), (#"{"a" 1}"#, false), (#"{"a":1"#, true), (#"{"b":1"#, false), ("", false), ("nul", false),
    (#"{"a":1,"b":2}garbage"#, true), (#"{"b":[1,2,}"#, false), (#"{"a":1, "b":"#, true),
  ])
  func malformed(_ payload: String, _ ok: Bool) {
    #expect((FieldExtractionTests.extract(payload, [FieldExtractionTests.path("a")]) != nil) == ok)
  }

  @Test func malformedPayloadsAreCountedNotFatal() throws {
    let feed = try Feeder("CREATE RULE r AS SELECT count(x) AS n FROM telemetry GROUP BY COUNT(1) RAISE ALERT 'i'")
    feed.send(#"{"broken"#, at: t0)
    feed.send(#"{"x":1}"#, at: t0)
    #expect(feed.engine.statistics.malformedPayloads == 1)
    #expect(feed.alerts.count == 1)
  }
}

@Suite struct KeyTests {
  @Test func keysFromRecordKeyNumbersAndSeveralFields() throws {
    let feed = try Feeder(
      """
      CREATE RULE byKey AS SELECT count(*) AS n FROM telemetry GROUP BY record_key(), COUNT(2) RAISE ALERT 'i';
      CREATE RULE byTwo AS SELECT line, count(*) AS n FROM telemetry GROUP BY site, line, COUNT(2) RAISE ALERT 'i';
      CREATE RULE byNumber AS SELECT count(*) AS n FROM telemetry GROUP BY unit, COUNT(2) RAISE ALERT 'i';
      CREATE RULE escaped AS SELECT count(*) AS n FROM telemetry GROUP BY name, COUNT(2) RAISE ALERT 'i'
      """)
    for _ in 0..<2 {
      feed.send(#"{"site":"s1","line":3,"unit":7,"name":"caf\u00e9"}"#, at: t0, key: "dev/1")
    }
    let byRule = Dictionary(grouping: feed.alerts, by: \.rule)
    #expect(byRule["byKey"]?.first?.key == "dev/1")
    #expect(byRule["byKey"]?.first?.mqttTopic == "weir/alerts/byKey/dev_1")
    #expect(byRule["byTwo"]?.first?.key == "s1|3")
    #expect(byRule["byTwo"]?.first?["line"] == .number(3))
    #expect(byRule["byNumber"]?.first?.key == "7")
    #expect(byRule["escaped"]?.first?.key == "café")
  }

  @Test func expressionsInWhereAndSelect() throws {
    let feed = try Feeder(
      """
      CREATE RULE e AS
      SELECT round(avg(CASE WHEN unit = 'F' THEN (t - 32) / 1.8 ELSE t END), 1) AS celsius,
        coalesce(last(label), 'none') AS label, abs(min(t)) AS m
      FROM telemetry
      WHERE t BETWEEN -50 AND 500 AND unit IN ('C', 'F') AND NOT (t IS NULL) AND record_time() >= 0
      GROUP BY COUNT(3)
      HAVING celsius > 20 AND label <> 'ignore'
      RAISE ALERT 'info' MESSAGE 'avg {celsius}'
      """)
    feed.send(#"{"t":212,"unit":"F"}"#, at: t0)
    feed.send(#"{"t":0,"unit":"C"}"#, at: t0)
    feed.send(#"{"t":999,"unit":"C"}"#, at: t0)
    feed.send(#"{"t":-10,"unit":"K"}"#, at: t0)
    feed.send(#"{"t":-4,"unit":"F"}"#, at: t0)
    let alert = try #require(feed.alerts.first)
    #expect(alert["celsius"] == .number(26.7))
    #expect(alert["label"] == .string("none"))
    #expect(alert["m"] == .number(4))
    #expect(alert.message == "avg 26.7")
  }
}
