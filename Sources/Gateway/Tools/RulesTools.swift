import Rules

/// `weir rules test` and `weir bench rules`: the rule engine offline, for operators tuning
/// thresholds, and its speed.
public enum RulesTools {
  /// Runs the rules of `rulesFile` over JSON-lines records and prints the alerts as JSON lines.
  public static func test(rulesFile: String, inputFile: String, topic: String, output: (String) -> Void) throws {
    try RuleEngine.runOffline(rulesFile: rulesFile, inputFile: inputFile, topic: topic, output: output)
  }

  /// The two example rules of `config/rules/motors.sql` over generated events; returns the JSON result line.
  public static func bench(events: Int, keys: Int) throws -> String {
    try RulesBenchmark.run(events: events, keys: keys).json
  }
}
