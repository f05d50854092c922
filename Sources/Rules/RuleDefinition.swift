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
