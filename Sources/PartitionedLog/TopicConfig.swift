public import WeirCore

/// When appended data is fsynced.
public enum FsyncPolicy: Sendable, Equatable, Codable {
  /// Every append returns only after its data is fsynced; concurrent appends share one fsync.
  case always
  /// fsync every `milliseconds`, or sooner once `bytes` are unsynced. Appends return after
  /// `write(2)`; readers see the data after the fsync. Default: 50 ms or 4 MiB.
  case interval(milliseconds: Int, bytes: Int)
  /// Never fsync except when a segment is rolled and at close: the page cache decides.
  case never

  public static let `default` = FsyncPolicy.interval(milliseconds: 50, bytes: 4 << 20)
}

/// What a full log does: the global disk budget or free-space reserve is reached, or the topic's
/// own `maxBytes`.
public enum FullPolicy: String, Sendable, Codable {
  /// Delete the oldest segments (lowest eviction priority first); records not yet read by a
  /// cursor are counted as dropped.
  case dropOldest = "drop_oldest"
  /// Refuse appends with ``LogError/Code/full`` so sources back-pressure.
  case rejectNew = "reject_new"
}

/// A topic's settings.
public struct TopicConfig: Sendable, Equatable, Codable, ConfigValidating {
  /// Partitions; can grow, never shrink. Default: 1.
  public var partitions: Int
  /// Default: ``FsyncPolicy/default``.
  public var fsync: FsyncPolicy
  /// Roll the active segment at this size. Default: 64 MiB.
  public var segmentBytes: Int64
  /// Roll the active segment this long (ms) after it was created. Default: 1 day.
  public var segmentMs: Int64
  /// Keep at most this many bytes in the topic (all partitions); nil for no limit. Default: nil.
  public var maxBytes: Int64?
  /// Delete segments whose newest record is older than this (ms); nil to keep. Default: 7 days.
  public var maxAgeMs: Int64?
  /// Under disk pressure, topics with a lower priority lose data first. Default: 0.
  public var evictionPriority: Int
  /// Default: drop oldest.
  public var onFull: FullPolicy
  /// Bytes of log between two index entries. Default: 4096.
  public var indexIntervalBytes: Int

  public init(
    partitions: Int = 1, fsync: FsyncPolicy = .default, segmentBytes: Int64 = 64 << 20,
    segmentMs: Int64 = 86_400_000, maxBytes: Int64? = nil, maxAgeMs: Int64? = 7 * 86_400_000,
    evictionPriority: Int = 0, onFull: FullPolicy = .dropOldest, indexIntervalBytes: Int = 4096
  ) {
    self.partitions = partitions
    self.fsync = fsync
    self.segmentBytes = segmentBytes
    self.segmentMs = segmentMs
    self.maxBytes = maxBytes
    self.maxAgeMs = maxAgeMs
    self.evictionPriority = evictionPriority
    self.onFull = onFull
    self.indexIntervalBytes = indexIntervalBytes
  }

  /// Checks the values; returns every problem, none when the topic can be created. The sentences
  /// name the setting themselves, so the issues have no key (the configuration reader reports
  /// them at the topic's name).
  public func problems() -> [ConfigIssue] {
    var issues: [ConfigIssue] = []
    if partitions < 1 || partitions > 10_000 {
      issues.append(ConfigIssue("partitions must be between 1 and 10000, got \(partitions)"))
    }
    if segmentBytes < 1024 || segmentBytes > Int64(Int32.max) {
      issues.append(
        ConfigIssue(
          "segment size must be between 1 KiB and 2 GiB (offsets in the index are 32-bit), got \(segmentBytes)"))
    }
    if segmentMs < 1 { issues.append(ConfigIssue("segment age must be positive")) }
    if let maxBytes, maxBytes < segmentBytes {
      issues.append(ConfigIssue("max bytes (\(maxBytes)) must be at least the segment size"))
    }
    if let maxAgeMs, maxAgeMs < 1 { issues.append(ConfigIssue("max age must be positive")) }
    if case .interval(let ms, let bytes) = fsync, ms < 1 || bytes < 1 {
      issues.append(ConfigIssue("fsync interval and bytes must be positive"))
    }
    if indexIntervalBytes < 1 { issues.append(ConfigIssue("index interval must be positive")) }
    return issues
  }
}

/// Store-wide settings.
public struct LogOptions: Sendable {
  /// Total bytes the log may use on disk (all topics); nil for no budget. Default: nil.
  public var diskBudgetBytes: Int64?
  /// Keep at least this many bytes free on the file system. Default: 256 MiB.
  public var minFreeBytes: Int64
  /// How often retention runs and free space is measured (ms). Default: 1000.
  public var retentionCheckMs: Int
  /// How often recovery points are saved (ms). Default: 1000.
  public var recoveryPointSaveMs: Int
  /// Largest batch accepted by an append. Default: 16 MiB.
  public var maxBatchBytes: Int
  /// Space kept for the metadata database in `<data_dir>/weir.reserve`, released when SQLite
  /// finds the disk full so cursors and recovery points are always saved (0: none). Default: 16 MiB.
  public var metadataReserveBytes: Int64

  public init(
    diskBudgetBytes: Int64? = nil, minFreeBytes: Int64 = 256 << 20, retentionCheckMs: Int = 1000,
    recoveryPointSaveMs: Int = 1000, maxBatchBytes: Int = 16 << 20, metadataReserveBytes: Int64 = 16 << 20
  ) {
    self.diskBudgetBytes = diskBudgetBytes
    self.minFreeBytes = minFreeBytes
    self.retentionCheckMs = retentionCheckMs
    self.recoveryPointSaveMs = recoveryPointSaveMs
    self.maxBatchBytes = maxBatchBytes
    self.metadataReserveBytes = metadataReserveBytes
  }
}
