import Payload
import Testing

@testable import Rules

@Suite struct ReloadTests {
  @Test func reloadKeepsUnchangedRulesState() throws {
    let clock = ManualClock()
    let feed = try Feeder(
      """
      CREATE RULE kept AS SELECT count(*) AS n FROM telemetry GROUP BY device, TUMBLING(1m) RAISE ALERT 'i';
      CREATE RULE changed AS SELECT count(*) AS n FROM telemetry GROUP BY device, TUMBLING(1m) RAISE ALERT 'i';
      CREATE RULE dropped AS SELECT count(*) AS n FROM telemetry GROUP BY device, TUMBLING(1m) RAISE ALERT 'i';
      CREATE RULE survivor AS SELECT count(*) AS n FROM telemetry GROUP BY device, TUMBLING(1m) RAISE ALERT 'i'
      """, clock: clock)
    for s in 0..<3 { feed.send(#"{"device":"a"}"#, at: t0 + Int64(s) * 1000) }
    let report = feed.engine.reload(
      source: """
        -- comments and layout are not changes
        CREATE RULE kept AS SELECT count(*) AS n
          FROM telemetry GROUP BY device, TUMBLING(1m) RAISE ALERT 'i';
        CREATE RULE changed AS SELECT count(*) AS n FROM telemetry GROUP BY device, TUMBLING(1m) RAISE ALERT 'j';
        CREATE RULE added AS SELECT count(*) AS n FROM telemetry GROUP BY device, TUMBLING(1m) RAISE ALERT 'i';
        CREATE RULE survivor AS SELECT count(*) AS n FROM telemetry GROUP BY device, TUMBLING(1m) RAISE ALERT;
        CREATE RULE broken AS SELECT nosuch(x) FROM telemetry GROUP BY TUMBLING(1m) RAISE ALERT 'i'
        """, fileName: "new.sql")
    #expect(report.kept == ["kept"])
    #expect(report.started == ["changed", "added"])
    #expect(report.removed == ["dropped"])
    #expect(report.keptPrevious == ["survivor"])
    #expect(
      report.refused.map(\.description) == [
        "new.sql:6:102: expected a severity string such as 'warning', found ';'",
        "new.sql:7:30: unknown function 'nosuch'; the functions are abs, avg, ceil, coalesce, count, crest_factor, delta, ewma, exp, first, floor, forecast, kurtosis, last, ln, max, min, peak_to_peak, percentile, pow, rate, record_key, record_time, rms, round, skewness, slope, sqrt, stddev, sum, time_to_threshold, variance, zscore",
      ])
    #expect(feed.engine.ruleNames == ["kept", "changed", "added", "survivor"])
    let seen = feed.collectWindowsByRule()
    for s in 3..<5 { feed.send(#"{"device":"a"}"#, at: t0 + Int64(s) * 1000) }
    feed.send(#"{"device":"a"}"#, at: t0 + minute)
    #expect(seen() == ["kept": 5, "changed": 2, "added": 2, "survivor": 5])
  }

  @Test func refusedInitialLoadThrowsEveryError() {
    #expect {
      _ = try RuleEngine(source: "CREATE RULE a AS SELECT 1;\nCREATE RULE b", fileName: "x.sql", clock: ManualClock())
    } throws: { error in
      (error as? RuleLoadError)?.errors.map(\.line) == [1, 2]
    }
  }
}

extension Feeder {
  /// The record count of the last window each rule evaluated.
  func collectWindowsByRule() -> () -> [String: Int] {
    final class Box: @unchecked Sendable { var counts: [String: Int] = [:] }
    let box = Box()
    engine.observeWindows { rule, _, _, _, values, _ in box.counts[rule] = Int(values[0].number ?? -1) }
    return { box.counts }
  }
}
