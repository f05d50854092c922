/// A point-in-time view of one serial port and what has been ingested from it, for the status
/// API and `weir status`.
public struct SerialPortStatus: Sendable, Equatable {
  public var path: String
  public var deviceId: String?
  /// The port is open and readable.
  public var up = false
  /// When ``up`` last changed (epoch milliseconds).
  public var sinceMs: Int64?
  /// Why the port is down, or the last error that took it down.
  public var lastError: String?
  /// Failed open attempts since the port was last up.
  public var failedOpens = 0
  /// Times the port was opened again after it had been up and went away.
  public var reconnects = 0
  /// Delay before the next open attempt while down.
  public var nextRetryInMs: Int?
  public var bytesRead: Int64 = 0
  /// Records appended to the log (dead letters not included).
  public var records: Int64 = 0
  /// Lines or frames sent to the dead-letter topic, by reason (`bad_checksum`, ...).
  public var deadLetters: [String: Int64] = [:]
  /// Lines deliberately not recorded: repeated CSV header lines, NMEA sentences outside the filter.
  public var skippedLines: Int64 = 0
  /// Wall-clock time of the last record (epoch milliseconds).
  public var lastRecordMs: Int64?
  /// The log refused appends (`reject_new` and full): reading is paused until it accepts them.
  public var backPressured = false

  public init(path: String, deviceId: String?) {
    self.path = path
    self.deviceId = deviceId
  }

  /// Dead letters of every reason.
  public var deadLetterTotal: Int64 { deadLetters.values.reduce(0, +) }
}
