/// Splits the byte stream from the master into request frames. RTU frames are delimited by
/// silence (3.5 character times); on a pseudo-terminal there is no baud-rate timing, so a frame ends
/// either when its length is known from the function code and its CRC checks out, or when the
/// line falls silent (``flushOnSilence()``), whichever comes first.
public struct ModbusRequestFramer: Sendable {
  private var buffer: [UInt8] = []
  /// Longest frame the serial line allows.
  public static let maximumFrame = 256

  public init() {}

  /// Add received bytes; return the frames completed by them.
  public mutating func append(_ bytes: [UInt8]) -> [[UInt8]] {
    buffer.append(contentsOf: bytes)
    var frames: [[UInt8]] = []
    while let length = expectedLength(), buffer.count >= length,
      CRC16.isValidModbusFrame(buffer[0..<length])
    {
      frames.append(Array(buffer[0..<length]))
      buffer.removeFirst(length)
    }
    if buffer.count > Self.maximumFrame {
      frames.append(buffer)
      buffer.removeAll()
    }
    return frames
  }

  /// The line went silent: whatever is buffered is one frame (possibly bad, the slave decides).
  public mutating func flushOnSilence() -> [UInt8]? {
    guard !buffer.isEmpty else { return nil }
    defer { buffer.removeAll() }
    return buffer
  }

  /// Frame length implied by the function code, when it is one we know.
  private func expectedLength() -> Int? {
    guard buffer.count >= 2 else { return nil }
    switch buffer[1] {
    case 1...6: return 8
    case 15, 16:
      guard buffer.count >= 7 else { return nil }
      return 9 + Int(buffer[6])
    default: return nil
    }
  }
}
