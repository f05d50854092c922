import Foundation
import Testing
@testable import Rules

/// Rule text whose cost would be unbounded is refused at load, at its file, line and column.
@Suite struct RuleLimitsTests {
  static func rule(window: String = "TUMBLING(1m)", select: String = "max(x)", tail: String = "") -> String {
    "CREATE RULE r AS SELECT \(select) FROM t GROUP BY \(window) RAISE ALERT 'x'\(tail)"
  }

  /// (source, line, column, message): every window parameter and count past its limit.
  static let refused: [(String, Int, Int, String)] = [
    (rule(window: "HOPPING(1d, 1ms)"), 1, 48,
      "HOPPING(1d, 1ms) builds each window from 86400000 panes (size / gcd(size, advance)); the limit is 10000: "
        + "use a longer advance, or a size that is a multiple of it"),
    (rule(window: "HOPPING(10001ms, 10s)"), 1, 48,
      "HOPPING(10001ms, 10s) builds each window from 10001 panes (size / gcd(size, advance)); the limit is 10000: "
        + "use a longer advance, or a size that is a multiple of it"),
    (rule(window: "HOPPING(999999999999999999d, 1m)"), 1, 56,
      "duration '999999999999999999d' is longer than the limit of 36525d (100 years)"),
    (rule(window: "TUMBLING(36526d)"), 1, 57, "duration '36526d' is longer than the limit of 36525d (100 years)"),
    (rule(window: "TUMBLING(0.4ms)"), 1, 57, "the window size of TUMBLING must be longer than 0"),
    (rule(window: "SLIDING(1e300h)"), 1, 56, "duration '1e300h' is longer than the limit of 36525d (100 years)"),
    (rule(window: "SESSION(9223372036854775807ms)"), 1, 56,
      "duration '9223372036854775807ms' is longer than the limit of 36525d (100 years)"),
    (rule(window: "COUNT(1000000001)"), 1, 54,
      "expected a whole number of records (1 to 1000000000) for COUNT, found number 1000000001"),
    (rule(window: "COUNT(1e300)"), 1, 54, "expected a whole number of records (1 to 1000000000) for COUNT, found number 1e300"),
    (rule(window: "COUNT(2.5)"), 1, 54, "expected a whole number of records (1 to 1000000000) for COUNT, found number 2.5"),
    (rule(tail: " CLEAR AFTER 1000001 WINDOWS"), 1, 89,
      "expected a whole number of windows (1 to 1000000) after CLEAR AFTER, found number 1000001"),
    (rule(tail: " CLEAR AFTER 1e19 WINDOWS"), 1, 89,
      "expected a whole number of windows (1 to 1000000) after CLEAR AFTER, found number 1e19"),
    (rule(tail: " WITH (lateness = 40000d)"), 1, 94, "duration '40000d' is longer than the limit of 36525d (100 years)"),
    (rule(tail: " WITH (idle_timeout = 1e20s)"), 1, 98, "duration '1e20s' is longer than the limit of 36525d (100 years)"),
    (rule(select: "axes[1000001]"), 1, 30, "expected an array index (0 to 1000000) inside [ ], found number 1000001"),
    (rule(select: "x * 1e999"), 1, 29, "number '1e999' is out of range"),
    (rule(select: "x * 1" + String(repeating: "0", count: 64)), 1, 29,
      "the number '100000000000000000000000...' has more than 64 characters"),
    (rule(select: "percentile(x, -0.5)"), 1, 39,
      "the p of percentile() is a fraction between 0 and 1 (write 0.95 for the 95th percentile), not -0.5"),
    (rule(select: "forecast(x, 36526d)"), 1, 37, "duration '36526d' is longer than the limit of 36525d (100 years)"),
    (rule(select: "forecast(x, -3155760001)"), 1, 37,
      "the horizon of forecast() must be at most 100 years (3155760000 seconds) either way, not -3155760001"),
    (rule(select: "forecast(x, 1e300)"), 1, 37,
      "the horizon of forecast() must be at most 100 years (3155760000 seconds) either way, not 1e+300"),
    (rule(select: "time_to_threshold(x, 1e400)"), 1, 46, "number '1e400' is out of range"),
    (rule(select: "ewma(x, 1.0000001)"), 1, 33, "the alpha of ewma() must be greater than 0 and at most 1, not 1.0000001"),
    (rule(select: "x AS " + String(repeating: "n", count: 257)), 1, 30,
      "the name 'nnnnnnnnnnnnnnnnnnnnnnnn...' is 257 bytes long; names are limited to 256"),
    (rule(select: "\"" + String(repeating: "q", count: 300) + "\""), 1, 25,
      "the name 'qqqqqqqqqqqqqqqqqqqqqqqq...' is 300 bytes long; names are limited to 256"),
    ("CREATE RULE r AS SELECT max(x) FROM t GROUP BY TUMBLING(1m) RAISE ALERT '" + String(repeating: "w", count: 4097)
      + "'", 1, 73, "the string is 4097 bytes long; strings are limited to 4096"),
    // Each chain alone is short enough; the operand of the outer chain is itself deep.
    (rule(select: "(" + Array(repeating: "x", count: 150).joined(separator: " + ") + ")" + String(repeating: " + x", count: 60)),
      1, 829, "the expression nests more than 200 levels deep; simplify it"),
  ]

  @Test(arguments: refused)
  func refusedAtLoad(_ source: String, _ line: Int, _ column: Int, _ message: String) {
    let (rules, errors) = RuleFile.parse(source, fileName: "limits.sql")
    #expect(rules.isEmpty)
    #expect(errors.map(\.message) == [message])
    #expect(errors.first?.line == line)
    #expect(errors.first?.column == column)
  }

  /// Windows at the limits still load, so the limits refuse only what they must.
  static let accepted = [
    "HOPPING(10000ms, 1ms)", "HOPPING(1d, 10s)", "HOPPING(10s, 9999ms)", "TUMBLING(36525d)", "SESSION(1ms)",
    "COUNT(1000000000)", "SLIDING(36525d)",
  ]

  @Test(arguments: accepted)
  func windowsAtTheLimitsLoad(_ window: String) {
    let (rules, errors) = RuleFile.parse(
      RuleLimitsTests.rule(window: window, select: "max(x), forecast(x, 3155760000), forecast(x, -3155760000)",
        tail: " CLEAR AFTER 1000000 WINDOWS WITH (lateness = 36525d, idle_timeout = 36525d)"),
      fileName: "limits.sql")
    #expect(errors.isEmpty, "\(errors)")
    #expect(rules.count == 1)
  }

  @Test func hugeFilesAndTooManyRulesAreRefused() {
    let big = String(repeating: "-- padding\n", count: RuleLimits.maximumSourceBytes / 11 + 1)
    let (none, sizeErrors) = RuleFile.parse(big, fileName: "big.sql")
    #expect(none.isEmpty)
    #expect(sizeErrors.map(\.description) == [
      "big.sql:1:1: the rule file is \(big.utf8.count) bytes; rule files are limited to 1048576 bytes (1 MiB): "
        + "split it into several files"
    ])

    let many = (0...RuleLimits.maximumRules).map { RuleLimitsTests.rule().replacingAll("RULE r", "RULE r\($0)") }
    let (rules, errors) = RuleFile.parse(many.joined(separator: ";\n"), fileName: "many.sql")
    #expect(rules.count == RuleLimits.maximumRules)
    #expect(errors.map(\.description) == ["many.sql:1001:1: the file has more than 1000 rules; the rules from here on are not loaded"])

    // Across files, the engine stops at the same number.
    let half = many.prefix(600).joined(separator: ";\n")
    let other = many.suffix(401).joined(separator: ";\n")
    let engine = RuleEngine(clock: ManualClock())
    let report = engine.reload(files: [(half, "a.sql"), (other, "b.sql")])
    #expect(engine.ruleNames.count == RuleLimits.maximumRules)
    #expect(report.refused.map(\.description) == ["b.sql:401:1: the rule files hold more than 1000 rules; this one is not loaded"])
  }

  /// The case that was found: two records through HOPPING(1d, 1ms) ran past a minute in `weir rules test`.
  @Test func theSlowHoppingRuleIsRefusedByRulesTest() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rules-limits-\(UInt64.random(in: 0...UInt64.max))")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let rules = folder.appendingPathComponent("slow.sql").path
    let input = folder.appendingPathComponent("in.jsonl").path
    try "-- two rules\nCREATE RULE ok AS SELECT count(*) AS n FROM telemetry GROUP BY TUMBLING(1m) RAISE ALERT 'i';\n"
      .appending("CREATE RULE slow AS SELECT count(*) AS n FROM telemetry\n  GROUP BY HOPPING(1d, 1ms) RAISE ALERT 'i'")
      .write(toFile: rules, atomically: true, encoding: .utf8)
    try #"{"timestamp":1700000000000,"value":{}}"# .appending("\n").appending(#"{"timestamp":1700000000001,"value":{}}"#)
      .write(toFile: input, atomically: true, encoding: .utf8)
    let error = #expect(throws: RuleLoadError.self) {
      try RuleEngine.runOffline(rulesFile: rules, inputFile: input) { _ in }
    }
    #expect(
      error?.description == "\(rules):4:12: HOPPING(1d, 1ms) builds each window from 86400000 panes "
        + "(size / gcd(size, advance)); the limit is 10000: use a longer advance, or a size that is a multiple of it")
  }

  /// At the limit, a record closes at most `maximumPanesPerWindow` windows, however far apart the records are.
  @Test func aRecordClosesBoundedWindowsAtTheLimit() throws {
    let feed = try Feeder(
      "CREATE RULE r AS SELECT count(*) AS n FROM telemetry GROUP BY HOPPING(10000ms, 1ms) RAISE ALERT 'i'")
    let times = [t0, t0 + 1, t0 + 86_400_000, t0 + 86_400_000 * 365, RuleEngine.timestampLimit - 1]
    for time in times { feed.send("{}", at: time) }
    feed.closeAll()
    let closed = feed.engine.statistics.rules[0].windowsClosed
    #expect(closed > 0)
    #expect(closed <= Int64(times.count) * RuleLimits.maximumPanesPerWindow)
  }
}
