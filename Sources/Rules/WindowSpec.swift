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
