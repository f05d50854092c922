/// Counters of one rule, for metrics and the status API.
public struct RuleStatistics: Sendable, Hashable {
  /// The rule's name.
  public var rule: String
  /// Records of the rule's topic that passed WHERE.
  public var recordsMatched: Int64 = 0
  /// Records behind their key's watermark (dropped or routed aside).
  public var lateRecords: Int64 = 0
  /// Windows evaluated.
  public var windowsClosed: Int64 = 0
  /// Alerts raised.
  public var alertsRaised: Int64 = 0
  /// Alerts cleared.
  public var alertsCleared: Int64 = 0
  /// Keys seen.
  public var keys: Int = 0
  /// Keys whose alert is currently raised.
  public var activeAlerts: Int = 0

  public init(rule: String) { self.rule = rule }
}

/// Counters of the whole engine.
public struct RuleEngineStatistics: Sendable, Hashable {
  /// Records handed to the engine.
  public var recordsReceived: Int64 = 0
  /// Records skipped because their offset was at or below the partition's last processed offset.
  public var duplicatesSkipped: Int64 = 0
  /// Records whose payload was not well-formed JSON where the rules needed to read it.
  public var malformedPayloads: Int64 = 0
  /// Records whose timestamp is absurdly far from 1970 (beyond ±2⁶⁰ ms), skipped.
  public var invalidTimestamps: Int64 = 0
  /// Records of a negative partition or one past `RuleLimits.maximumPartitions`, skipped.
  public var invalidPartitions: Int64 = 0
  /// Per rule, in rule-file order.
  public var rules: [RuleStatistics] = []

  public init() {}
}
