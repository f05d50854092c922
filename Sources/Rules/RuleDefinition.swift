/// One parsed `CREATE RULE` statement.
public struct RuleDefinition: Sendable {
  /// One `expression [AS alias]` of the SELECT list.
  public struct SelectItem: Sendable {
    /// The value computed per window.
    public var expression: Expression
    /// The name the value has in alerts and in HAVING; derived from the expression when not given.
    public var alias: String
  }

  /// The rule's name, unique in a rule set.
  public var name: String
  /// The SELECT list.
  public var select: [SelectItem]
  /// The topic the rule reads.
  public var topic: String
  /// The per-record filter (WHERE).
  public var filter: Expression?
  /// The group key expressions (GROUP BY, without the window).
  public var groupKeys: [Expression]
  /// The window (GROUP BY's window call).
  public var window: WindowSpec
  /// The per-window condition (HAVING); absent means always true.
  public var having: Expression?
  /// The alert to raise.
  public var alert: AlertSpec
  /// Options from `WITH (...)`.
  public var options: RuleOptions
  /// Where `CREATE` was written.
  public var location: SourceLocation
  /// The rule's tokens joined by single spaces: equal for two texts that differ only in layout and comments.
  public var fingerprint: String
}

/// The `RAISE ALERT` clause.
public struct AlertSpec: Sendable, Equatable {
  /// The severity, as written (`'warning'`, `'critical'`).
  public var severity: String
  /// The message template; `{name}` is replaced by the SELECT value of that name, `{key}` by the group key.
  public var message: String?
  /// How many consecutive windows the condition must be false before the alert clears.
  public var clearAfterWindows: Int
}

/// What happens to a record that arrives behind its key's watermark.
public enum LatePolicy: Sendable, Equatable {
  /// Count it and drop it.
  case drop
  /// Count it and emit it as a `LateRecord` for this topic.
  case topic(String)
}

/// Options from `WITH (...)`.
public struct RuleOptions: Sendable, Equatable {
  /// How far behind its key's newest event time a record may be and still count. Default: 0.
  public var latenessMilliseconds: Int64 = 0
  /// Processing time after a key's last record at which its open windows close. Default: none.
  public var idleTimeoutMilliseconds: Int64? = nil
  /// What to do with late records. Default: `.drop`.
  public var late: LatePolicy = .drop
}

/// The window of a rule.
public enum WindowSpec: Sendable, Equatable, CustomStringConvertible {
  /// Fixed, non-overlapping windows of `size` milliseconds aligned to the epoch.
  case tumbling(size: Int64)
  /// Windows of `size` starting every `advance` milliseconds.
  case hopping(size: Int64, advance: Int64)
  /// A window ending at each record, covering the `size` milliseconds before it.
  case sliding(size: Int64)
  /// Records of a key closer than `gap` milliseconds to each other share a window.
  case session(gap: Int64)
  /// Every `count` records of a key form a window.
  case count(Int)

  public var description: String {
    switch self {
    case .tumbling(let size): "TUMBLING(\(size)ms)"
    case .hopping(let size, let advance): "HOPPING(\(size)ms, \(advance)ms)"
    case .sliding(let size): "SLIDING(\(size)ms)"
    case .session(let gap): "SESSION(\(gap)ms)"
    case .count(let n): "COUNT(\(n))"
    }
  }
}
