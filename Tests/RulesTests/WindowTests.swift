import Payload
import Testing

@testable import Rules

/// A window as the tests see it: bounds relative to `t0` and the record count.
struct SeenWindow: Equatable, CustomStringConvertible {
  var start: Int64
  var end: Int64
  var n: Int
  var description: String { "[\(start), \(end)) n=\(n)" }
}

extension Feeder {
  /// Records every window the engine evaluates.
  func collectWindows() -> () -> [SeenWindow] {
    final class Box: @unchecked Sendable { var windows: [SeenWindow] = [] }
    let box = Box()
    engine.observeWindows { _, _, start, end, values, _ in
      box.windows.append(SeenWindow(start: start - t0, end: end - t0, n: Int(values[0].number ?? -1)))
    }
    return { box.windows }
  }
}

@Suite struct WindowTests {
  struct Case: CustomTestStringConvertible, Sendable {
    var name: String
    var window: String
    var options = ""
    /// Event times, in seconds after t0, in arrival order.
    var times: [Int64]
    /// Windows in the order they close (the last ones when the input ends), bounds in seconds after t0.
    var expected: [(Int64, Int64, Int)]
    var late = 0
    var testDescription: String { name }
  }

  static let cases: [Case] = [
    Case(
      name: "tumbling boundaries and an event-time gap", window: "TUMBLING(1m)",
      times: [0, 30, 59, 60, 180],
      expected: [(0, 60, 3), (60, 120, 1), (180, 240, 1)]),
    Case(
      name: "tumbling end is exclusive to the millisecond", window: "TUMBLING(10s)",
      times: [9, 10, 19, 20],
      expected: [(0, 10, 1), (10, 20, 2), (20, 30, 1)]),
    Case(
      name: "hopping windows overlap and skip empty stretches", window: "HOPPING(2m, 1m)",
      times: [0, 90, 300],
      expected: [(-60, 60, 1), (0, 120, 2), (60, 180, 1), (240, 360, 1), (300, 420, 1)]),
    Case(
      name: "hopping with an advance that does not divide the size", window: "HOPPING(3m, 2m)",
      times: [0, 100, 250],
      expected: [(-120, 60, 1), (0, 180, 2), (120, 300, 1), (240, 420, 1)]),
    Case(
      name: "sliding window per record", window: "SLIDING(1m)",
      times: [0, 30, 60, 61, 200],
      expected: [(-60, 0, 1), (-30, 30, 2), (0, 60, 2), (1, 61, 3), (140, 200, 1)]),
    Case(
      name: "session windows split on the gap", window: "SESSION(1m)",
      times: [0, 30, 80, 200],
      expected: [(0, 140, 3), (200, 260, 1)]),
    Case(
      name: "a late record bridges two sessions", window: "SESSION(1m)", options: "WITH (lateness = 5m)",
      times: [0, 100, 50],
      expected: [(0, 160, 3)]),
    Case(
      name: "count windows", window: "COUNT(2)",
      times: [0, 500, 1, 2, 3],
      expected: [(0, 500, 2), (1, 2, 2), (3, 3, 1)]),
    Case(
      name: "late record dropped without lateness", window: "TUMBLING(1m)",
      times: [0, 70, 10, 65, 70],
      expected: [(0, 60, 1), (60, 120, 2)], late: 2),
    Case(
      name: "lateness keeps a window open for stragglers", window: "TUMBLING(1m)", options: "WITH (lateness = 30s)",
      times: [0, 70, 50, 100, 20],
      expected: [(0, 60, 2), (60, 120, 2)], late: 1),
    Case(
      name: "sliding waits for the watermark to order stragglers", window: "SLIDING(1m)",
      options: "WITH (lateness = 10s)",
      times: [0, 20, 15, 40],
      expected: [(-60, 0, 1), (-45, 15, 2), (-40, 20, 3), (-20, 40, 4)]),
  ]

  @Test(arguments: cases)
  func windows(_ c: Case) throws {
    let feed = try Feeder(
      """
      CREATE RULE w AS SELECT count(*) AS n FROM telemetry GROUP BY dev, \(c.window) RAISE ALERT 'i' \(c.options)
      """)
    let seen = feed.collectWindows()
    for t in c.times { feed.send(#"{"dev":"a","x":1}"#, at: t0 + t * 1000) }
    feed.closeAll()
    #expect(seen() == c.expected.map { SeenWindow(start: $0.0 * 1000, end: $0.1 * 1000, n: $0.2) })
    #expect(feed.engine.statistics.rules[0].lateRecords == Int64(c.late))
  }

  @Test func lateRecordsGoToTheSideTopic() throws {
    let feed = try Feeder(
      """
      CREATE RULE w AS SELECT count(*) AS n FROM telemetry GROUP BY dev, TUMBLING(1m)
      RAISE ALERT 'i' WITH (late = 'topic:telemetry-late')
      """)
    feed.send(#"{"dev":"a"}"#, at: t0 + 90_000, key: "a", partition: 2)
    feed.send(#"{"dev":"a","n":7}"#, at: t0 + 10_000, key: "a", partition: 2)
    #expect(feed.late.count == 1)
    let late = try #require(feed.late.first)
    #expect(late.topic == "telemetry-late")
    #expect(late.rule == "w")
    #expect(late.sourceTopic == "telemetry")
    #expect(late.partition == 2)
    #expect(late.offset == 1)
    #expect(late.timestamp == t0 + 10_000)
    #expect(late.key == Array("a".utf8))
    #expect(late.value == Array(#"{"dev":"a","n":7}"#.utf8))
  }

  /// A device offline for hours uploads its buffered readings: its own watermark lags, so they are on time and its
  /// windows are evaluated as if the readings had arrived live, while other devices are unaffected.
  @Test func perKeyWatermarkWithBufferedUpload() throws {
    let feed = try Feeder(
      """
      CREATE RULE overheat AS SELECT device, max(temperature) AS t_max FROM telemetry
      GROUP BY device, TUMBLING(1m) HAVING t_max > 95 RAISE ALERT 'critical'
      """)
    func reading(_ device: String, _ seconds: Int64, _ temperature: Double) {
      feed.send(
        #"{"device":"\#(device)","temperature":\#(temperature)}"#, at: t0 + seconds * 1000,
        partition: device == "live" ? 0 : 1)
    }
    // Both report for an hour; then "buffered" goes offline while "live" reports for three more hours.
    for s in stride(from: Int64(0), to: 3600, by: 10) {
      reading("live", s, 70)
      reading("buffered", s, 70)
    }
    for s in stride(from: Int64(3600), to: 4 * 3600, by: 10) { reading("live", s, s == 9000 ? 99 : 70) }
    // It comes back and uploads three hours of readings; one minute two hours in ran hot.
    for s in stride(from: Int64(3600), to: 4 * 3600, by: 10) {
      reading("buffered", s, (7200..<7260).contains(s) ? 97 : 71)
    }
    let stats = feed.engine.statistics.rules[0]
    #expect(stats.lateRecords == 0)
    let raised = feed.alerts.filter { $0.state == .raised }
    #expect(raised.map(\.key) == ["live", "buffered"])
    #expect(raised.map { $0.windowStart - t0 } == [9000 * 1000, 7200 * 1000])
    #expect(raised[1]["t_max"] == .number(97))
    #expect(raised[1]["device"] == .string("buffered"))
    let cleared = feed.alerts.filter { $0.state == .cleared }
    #expect(cleared.map { $0.windowStart - t0 } == [9060 * 1000, 7260 * 1000])
  }

  @Test func idleTimeoutClosesASilentKeysWindows() throws {
    let clock = ManualClock()
    let feed = try Feeder(
      """
      CREATE RULE quiet AS SELECT count(*) AS n, max(temperature) AS t FROM telemetry
      GROUP BY device, TUMBLING(10m) HAVING t > 95 RAISE ALERT 'critical' WITH (idle_timeout = 5m)
      """, clock: clock)
    let seen = feed.collectWindows()
    feed.send(#"{"device":"a","temperature":99}"#, at: t0)
    clock.advance(by: .seconds(30))
    feed.send(#"{"device":"a","temperature":98}"#, at: t0 + 30_000)
    feed.send(#"{"device":"b","temperature":20}"#, at: t0 + 30_000)
    clock.advance(by: .seconds(4 * 60))
    #expect(feed.tick().isEmpty)
    #expect(seen().isEmpty)
    clock.advance(by: .seconds(61))
    let alerts = feed.tick()
    #expect(alerts.map(\.key) == ["a"])
    #expect(alerts.first?.windowStart == t0)
    #expect(seen() == [SeenWindow(start: 0, end: 600_000, n: 2), SeenWindow(start: 0, end: 600_000, n: 1)])
    // The window was closed early; a straggler for it is late, a reading for the next window is not.
    feed.send(#"{"device":"a","temperature":50}"#, at: t0 + 60_000)
    feed.send(#"{"device":"a","temperature":50}"#, at: t0 + 600_000)
    #expect(feed.engine.statistics.rules[0].lateRecords == 1)
    // Without records the timer keeps working for the newly opened window.
    clock.advance(by: .seconds(6 * 60))
    feed.tick()
    #expect(seen().last == SeenWindow(start: 600_000, end: 1_200_000, n: 1))
  }

  @Test func twoRulesOnOneTopicShareOneRecord() throws {
    let feed = try Feeder(
      RulesBenchmark.rules + """
        ;
        CREATE RULE pumps AS SELECT count(*) AS n FROM telemetry WHERE kind IN ('pump') GROUP BY device, COUNT(2)
        RAISE ALERT 'info';
        CREATE RULE other AS SELECT count(*) AS n FROM other GROUP BY COUNT(1) RAISE ALERT 'info'
        """)
    for i in 0..<130 {
      let hot = i >= 60 && i < 70
      let vibration = i < 60 ? 9.0 : 2.0
      feed.send(
        #"{"device":"m1","kind":"motor","vibration":\#(vibration),"temperature":\#(hot ? 99 : 70)}"#,
        at: t0 + Int64(i) * 1000)
      feed.send(#"{"device":"p1","kind":"pump","vibration":1,"temperature":60}"#, at: t0 + Int64(i) * 1000)
    }
    let rules = Set(feed.alerts.map(\.rule))
    #expect(rules == ["bearing_wear", "overheat", "pumps"])
    #expect(feed.alerts.first { $0.rule == "bearing_wear" }?.key == "m1")
    #expect(feed.alerts.first { $0.rule == "pumps" }?.key == "p1")
    let stats = feed.engine.statistics
    #expect(stats.rules.map(\.recordsMatched) == [130, 260, 130, 0])
  }
}
