/// One partition's forwarding position and lag, as the status API shows it.
public struct UplinkPartitionStatus: Sendable, Equatable {
  public var topic: String
  public var partition: Int32
  public var remoteTopic: String
  public var priority: Int
  /// The cursor as committed to `weir.db`.
  public var committedOffset: Int64
  /// Everything below is confirmed by the remote end.
  public var confirmedOffset: Int64
  /// The local log's high watermark (durable end) and start.
  public var highWatermark: Int64
  public var logStartOffset: Int64
  /// Records in the log not yet confirmed.
  public var lagRecords: Int64
  /// Event time of the newest record minus that of the oldest unconfirmed one (0 without lag).
  public var lagSeconds: Double
  /// Now minus the event time of the oldest unconfirmed record (0 without lag).
  public var oldestUnconfirmedAgeSeconds: Double
  public var inFlightRecords: Int
  public var sentRecords: Int64
  public var ackedRecords: Int64
  public var errors: Int64
  /// Records skipped with a gap marker (retention overtook the cursor, corruption, refused).
  public var lostRecords: Int64
}

/// An uplink's state at one moment: for the status API, tests and `weir lag`.
public struct UplinkSnapshot: Sendable, Equatable {
  public enum State: String, Sendable {
    case starting, running
    /// At least one partition waits out a back-off after a failed delivery.
    case backingOff = "backing_off"
    /// The transport failed for good and is being recreated.
    case recovering
    case stopped
  }

  public var name: String
  /// `kafka` or `mqtt`.
  public var kind: String
  public var state: State
  /// Whether the remote end answered lately.
  public var connected: Bool
  public var sentRecords: Int64
  /// Key, value and header bytes handed to the transport (what the bandwidth cap limits).
  public var sentBytes: Int64
  public var ackedRecords: Int64
  public var errors: Int64
  public var lostRecords: Int64
  /// Times a partition went back to its confirmed position after a failed delivery.
  public var rewinds: Int64
  /// Times the transport client was destroyed and recreated (librdkafka fatal errors...).
  public var transportRestarts: Int64
  public var inFlightRecords: Int
  public var inFlightBytes: Int
  /// The most ever in flight at once: never above the window.
  public var peakInFlightRecords: Int
  public var peakInFlightBytes: Int
  public var window: InFlightWindow
  public var lagRecords: Int64
  /// The largest over partitions.
  public var oldestUnconfirmedAgeSeconds: Double
  public var lastError: String?
  public var partitions: [UplinkPartitionStatus]
  /// Epoch milliseconds when taken.
  public var takenAt: Int64

  static func initial(name: String, kind: String, window: InFlightWindow) -> UplinkSnapshot {
    UplinkSnapshot(
      name: name, kind: kind, state: .starting, connected: false, sentRecords: 0, sentBytes: 0, ackedRecords: 0, errors: 0,
      lostRecords: 0, rewinds: 0, transportRestarts: 0, inFlightRecords: 0, inFlightBytes: 0, peakInFlightRecords: 0,
      peakInFlightBytes: 0, window: window, lagRecords: 0, oldestUnconfirmedAgeSeconds: 0, lastError: nil,
      partitions: [], takenAt: 0)
  }
}
