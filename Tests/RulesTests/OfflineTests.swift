import Foundation
import Testing
import Rules

@Suite struct OfflineTests {
  func temporaryFile(_ name: String, _ contents: String) throws -> String {
    let path = NSTemporaryDirectory() + "weir-rules-\(UUID().uuidString)-\(name)"
    try contents.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  @Test func runOfflinePrintsAlertsAsJSONLines() throws {
    let rules = try temporaryFile("rules.sql", RulesBenchmark.rules)
    var lines: [String] = []
    for i in 0..<150 {
      let temperature = i >= 60 && i < 90 ? 99 : 70
      let stamp = i % 2 == 0 ? "\(t0 + Int64(i) * 1000)" : "\"\(OfflineTests.rfc3339(t0 + Int64(i) * 1000))\""
      lines.append(#"{"timestamp":\#(stamp),"key":"m1","value":{"device":"m1","kind":"motor","vibration":1,"temperature":\#(temperature)}}"#)
    }
    let input = try temporaryFile("in.jsonl", lines.joined(separator: "\n") + "\n")
    var output: [String] = []
    try RuleEngine.runOffline(rulesFile: rules, inputFile: input, topic: "telemetry") { output.append($0) }
    let decoded = try output.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
    #expect(decoded.map { $0["rule"] as? String } == ["overheat", "overheat"])
    #expect(decoded.map { $0["state"] as? String } == ["raised", "cleared"])
    #expect(decoded.first?["window_start_ms"] as? Int64 == t0 + minute)
  }

  @Test func offlineErrorsNameTheFileAndLine() throws {
    let rules = try temporaryFile("rules.sql", RulesBenchmark.rules)
    let input = try temporaryFile("in.jsonl", #"{"timestamp":1,"value":{}}"# + "\n" + #"{"timestamp":"yesterday","value":{}}"#)
    #expect {
      try RuleEngine.runOffline(rulesFile: rules, inputFile: input, topic: "telemetry") { _ in }
    } throws: { error in
      (error as? OfflineInputError)?.description == "\(input):2: timestamp 'yesterday' is not RFC 3339"
    }
    let badRules = try temporaryFile("bad.sql", "CREATE RULE x AS SELECT")
    #expect(throws: RuleLoadError.self) {
      try RuleEngine.runOffline(rulesFile: badRules, inputFile: input, topic: "telemetry") { _ in }
    }
  }

  static func rfc3339(_ ms: Int64) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
  }
}

@Suite struct RulesBenchmarkSmoke {
  /// A small run always; set WEIR_BENCH_EVENTS (and WEIR_BENCH_KEYS) for a real measurement in a release build.
  @Test func benchmarkReportsItsFigures() throws {
    let environment = ProcessInfo.processInfo.environment
    let events = Int(environment["WEIR_BENCH_EVENTS"] ?? "") ?? 50_000
    let keys = Int(environment["WEIR_BENCH_KEYS"] ?? "") ?? 1000
    let result = try RulesBenchmark.run(events: events, keys: keys)
    print("rules benchmark: \(result.json)")
    #expect(result.events == events)
    #expect(result.keys == keys)
    #expect(result.alerts > 0)
    #expect(result.eventsPerSecond > 0)
    #expect(result.peakRSSBytes > 0)
    let object = try JSONSerialization.jsonObject(with: Data(result.json.utf8)) as? [String: Any] ?? [:]
    let fields = Set(object.keys)
    #expect(fields.isSuperset(of: ["events_per_s", "peak_rss_bytes", "events", "keys", "alerts"]))
  }
}
