/// What a serial run did.
public struct SerialRunSummary: Sendable, Equatable {
  /// Lines (or Modbus responses) written.
  public var written = 0
  /// Bytes the kernel did not take because nobody was reading.
  public var droppedBytes = 0
  /// Modbus requests answered, ignored (bad CRC, other address) and left unanswered on purpose.
  public var answered = 0
  public var ignored = 0
  public var unanswered = 0
}
