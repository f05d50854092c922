/// One CSV column: its name in the record and how its text is typed.
public struct CSVColumn: Sendable, Equatable {
  public enum ColumnType: String, Sendable, CaseIterable {
    /// A 64-bit signed integer.
    case int
    /// A decimal number (`nan` and `inf` become null).
    case float
    /// Text, as a JSON string.
    case string
    /// `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off` (any case).
    case bool
    /// An integer if it looks like one, else a number, else `true`/`false`, else a string.
    case auto
  }

  public var name: String
  /// Default: `auto`.
  public var type: ColumnType

  public init(_ name: String, _ type: ColumnType = .auto) {
    self.name = name
    self.type = type
  }
}
