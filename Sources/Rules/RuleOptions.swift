/// Options from `WITH (...)`.
public struct RuleOptions: Sendable, Equatable {
  /// How far behind its key's newest event time a record may be and still count. Default: 0.
  public var latenessMilliseconds: Int64 = 0
  /// Processing time after a key's last record at which its open windows close. Default: none.
  public var idleTimeoutMilliseconds: Int64? = nil
  /// What to do with late records. Default: `.drop`.
  public var late: LatePolicy = .drop
}
