/// The `RAISE ALERT` clause.
public struct AlertSpec: Sendable, Equatable {
  /// The severity, as written (`'warning'`, `'critical'`).
  public var severity: String
  /// The message template; `{name}` is replaced by the SELECT value of that name, `{key}` by the group key.
  public var message: String?
  /// How many consecutive windows the condition must be false before the alert clears.
  public var clearAfterWindows: Int
}
