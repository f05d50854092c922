/// What happens to a record that arrives behind its key's watermark.
public enum LatePolicy: Sendable, Equatable {
  /// Count it and drop it.
  case drop
  /// Count it and emit it as a `LateRecord` for this topic.
  case topic(String)
}
