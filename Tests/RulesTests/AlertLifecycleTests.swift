import Payload
import Rules
import Testing

@Suite struct AlertLifecycleTests {
  static let rule = """
    CREATE RULE hot AS SELECT device, max(temperature) AS t_max, count(*) AS n FROM telemetry
    GROUP BY device, TUMBLING(1m) HAVING t_max > 95
    RAISE ALERT 'critical' MESSAGE '{device} reached {t_max} C ({rule}, {severity}, {unknown})' CLEAR AFTER 3 WINDOWS
    """

  /// Per-minute maxima, and the transitions expected at each minute.
  static let cases: [([Double], [(Int, AlertEvent.State)])] = [
    // Raised once, no repeats while it stays true.
    ([96, 97, 98, 99], [(0, .raised)]),
    // A false window resets nothing until three in a row; a true one in between restarts the count.
    ([90, 96, 97, 90, 96, 90, 90, 90, 96], [(1, .raised), (7, .cleared), (8, .raised)]),
    // Never true: nothing.
    ([90, 91, 92], []),
  ]

  @Test(arguments: cases)
  func lifecycle(_ maxima: [Double], _ expected: [(Int, AlertEvent.State)]) throws {
    let feed = try Feeder(AlertLifecycleTests.rule)
    for (minuteIndex, value) in maxima.enumerated() {
      let base = t0 + Int64(minuteIndex) * minute
      feed.send(#"{"device":"m1","temperature":50}"#, at: base)
      feed.send(#"{"device":"m1","temperature":\#(value)}"#, at: base + 30_000)
    }
    feed.send(#"{"device":"m1","temperature":50}"#, at: t0 + Int64(maxima.count) * minute)
    #expect(feed.alerts.map { Int(($0.windowStart - t0) / minute) } == expected.map(\.0))
    #expect(feed.alerts.map(\.state) == expected.map(\.1))
  }

  @Test func clearAfterDefaultsToOneWindow() throws {
    let feed = try Feeder(RulesBenchmark.rules)
    for (i, t) in [99.0, 70, 99].enumerated() {
      feed.send(#"{"device":"d","kind":"pump","temperature":\#(t)}"#, at: t0 + Int64(i) * minute)
    }
    feed.send(#"{"device":"d","kind":"pump","temperature":1}"#, at: t0 + 3 * minute)
    #expect(feed.alerts.map(\.state) == [.raised, .cleared, .raised])
  }

  @Test func alertJSONIsExact() throws {
    let feed = try Feeder(AlertLifecycleTests.rule)
    feed.send(#"{"device":"m/1+#","temperature":96.5}"#, at: 1_700_000_000_000)
    feed.send(#"{"device":"m/1+#","temperature":20}"#, at: 1_700_000_100_000)
    let alert = try #require(feed.alerts.first)
    #expect(
      alert.jsonString == """
        {"rule":"hot","severity":"critical","key":"m/1+#","state":"raised",\
        "window_start":"2023-11-14T22:13:00.000Z","window_end":"2023-11-14T22:14:00.000Z",\
        "window_start_ms":1699999980000,"window_end_ms":1700000040000,\
        "values":{"device":"m/1+#","t_max":96.5,"n":1},\
        "message":"m/1+# reached 96.5 C (hot, critical, {unknown})"}
        """)
    #expect(alert.mqttTopic == "weir/alerts/hot/m_1__")
    #expect(alert.timestamp == 1_700_000_040_000)
    #expect(alert.recordKey == Array("m/1+#".utf8))
    #expect(alert.severity == "critical")
  }

  @Test func keysAreIndependent() throws {
    let feed = try Feeder(AlertLifecycleTests.rule)
    for m in 0..<2 {
      for device in ["a", "b", "c"] {
        let t = device == "b" ? 99.0 : 20.0
        feed.send(#"{"device":"\#(device)","temperature":\#(t)}"#, at: t0 + Int64(m) * minute)
      }
    }
    #expect(feed.alerts.map(\.key) == ["b"])
    #expect(feed.engine.statistics.rules[0].activeAlerts == 1)
    #expect(feed.engine.statistics.rules[0].keys == 3)
  }
}
