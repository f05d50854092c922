import PartitionedLog

/// Why offsets were skipped without forwarding their records.
enum GapReason: String, Sendable {
  /// Retention deleted them before the uplink read them.
  case retention
  /// A batch failed its CRC or framing check.
  case corrupt
  /// The remote end refuses the record for good (too large...).
  case rejected
}

/// What a stream has next.
enum StreamItem {
  case record(RecordView, epoch: Int32)
  /// Offsets `from..<to` cannot be forwarded; a gap marker goes in their place.
  case gap(from: Int64, to: Int64, reason: GapReason)
  case end
}
