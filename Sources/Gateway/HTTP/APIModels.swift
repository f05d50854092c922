public import Foundation

// The JSON of the HTTP API (`/api/v1/...`). The daemon encodes these types and the CLI decodes
// the same ones, so the two cannot disagree. Keys are snake_case on the wire.

public enum WeirVersion {
  public static let current = "0.2.0"
}

public struct StatusResponse: Codable, Sendable {
  public var gateway: String
  public var version: String
  public var startedAtMs: Int64
  public var uptimeSeconds: Double
  public var ready: Bool
  /// Why the daemon is not ready, one line per reason.
  public var notReady: [String]
  public var ingest: IngestSummary
  public var log: LogSummary
  public var sources: [SourceInfo]
  public var uplinks: [UplinkSummary]
  public var rules: RulesSummary
}

public struct IngestSummary: Codable, Sendable {
  /// Records appended to the source topics (everything but `alerts` and `deadletter`) since start.
  public var records: Int64
  /// Over the last sampling interval (5 s).
  public var recordsPerSecond: Double
  /// Records in the dead-letter topic now (since its retention start).
  public var deadLetters: Int64
}

public struct LogSummary: Codable, Sendable {
  public var directory: String
  public var bytes: Int64
  public var segments: Int
  public var topics: Int
  public var diskFreeBytes: Int64
  public var recoveredFromUncleanStop: Bool
}

public struct SourceInfo: Codable, Sendable {
  public var name: String
  /// mqtt, serial, modbus or listener.
  public var kind: String
  /// A listener: bound and accepting.
  public var connected: Bool
  public var records: Int64
  public var lastError: String?
  /// A listener's client connections now (nil for the other kinds).
  public var clients: Int?

  public init(
    name: String, kind: String, connected: Bool, records: Int64, lastError: String?, clients: Int? = nil
  ) {
    self.name = name
    self.kind = kind
    self.connected = connected
    self.records = records
    self.lastError = lastError
    self.clients = clients
  }
}

public struct UplinkSummary: Codable, Sendable {
  public var name: String
  public var kind: String
  public var state: String
  public var connected: Bool
  public var sentRecords: Int64
  public var ackedRecords: Int64
  public var errors: Int64
  public var lostRecords: Int64
  public var inFlightRecords: Int
  public var lagRecords: Int64
  public var lagSeconds: Double
  public var lastError: String?
  public var partitions: [UplinkPartitionInfo]
}

public struct UplinkPartitionInfo: Codable, Sendable {
  public var topic: String
  public var partition: Int32
  public var remoteTopic: String
  public var committedOffset: Int64
  public var confirmedOffset: Int64
  public var highWatermark: Int64
  public var lagRecords: Int64
  public var lagSeconds: Double
}

public struct RulesSummary: Codable, Sendable {
  public var rules: Int
  public var recordsProcessed: Int64
  public var malformedPayloads: Int64
  public var alertsWritten: Int64
  public var activeAlerts: Int
}

public struct RulesResponse: Codable, Sendable {
  public var files: [String]
  public var recordsProcessed: Int64
  public var duplicatesSkipped: Int64
  public var malformedPayloads: Int64
  public var invalidTimestamps: Int64
  public var rules: [RuleInfo]
}

public struct RuleInfo: Codable, Sendable {
  public var name: String
  public var recordsMatched: Int64
  public var lateRecords: Int64
  public var windowsClosed: Int64
  public var alertsRaised: Int64
  public var alertsCleared: Int64
  public var keys: Int
  public var activeAlerts: Int
}

public struct TopicsResponse: Codable, Sendable {
  public var topics: [TopicInfo]
}

public struct TopicInfo: Codable, Sendable {
  public var name: String
  public var fsync: String
  public var maxAgeMs: Int64?
  public var maxBytes: Int64?
  public var evictionPriority: Int
  public var records: Int64
  public var bytes: Int64
  public var segments: Int
  public var partitions: [PartitionInfo]
}

public struct PartitionInfo: Codable, Sendable {
  public var partition: Int32
  public var logStartOffset: Int64
  public var highWatermark: Int64
  public var logEndOffset: Int64
  public var segments: Int
  public var bytes: Int64
}

public struct UplinksResponse: Codable, Sendable {
  public var uplinks: [UplinkSummary]
}

/// One alert transition as stored in the `alerts` topic.
public struct AlertInfo: Codable, Sendable {
  public var offset: Int64
  public var timestampMs: Int64
  public var rule: String
  public var severity: String
  public var key: String
  /// raised or cleared.
  public var state: String
  public var windowEndMs: Int64
  public var message: String
}

public struct AlertsResponse: Codable, Sendable {
  /// Alerts raised and not cleared, newest first.
  public var active: [AlertInfo]
  /// The latest transitions, newest first.
  public var recent: [AlertInfo]
  /// Transitions in the topic now.
  public var total: Int64
}

public struct RecordInfo: Codable, Sendable {
  public var partition: Int32
  public var offset: Int64
  public var timestampMs: Int64
  public var key: String?
  /// The value as text when it is UTF-8, else base64 (see `value_encoding`).
  public var value: String?
  public var valueEncoding: String
  public var headers: [HeaderInfo]
}

public struct HeaderInfo: Codable, Sendable {
  public var key: String
  public var value: String
}

public struct RecordsResponse: Codable, Sendable {
  public var topic: String
  public var records: [RecordInfo]
  /// Per partition, the offset to ask for next (`from=` in the next request).
  public var next: [PartitionOffset]
}

public struct PartitionOffset: Codable, Sendable {
  public var partition: Int32
  public var offset: Int64
}

/// The last hour, sampled every few seconds, for the status page's charts.
public struct HistoryResponse: Codable, Sendable {
  public var intervalSeconds: Double
  public var points: [HistoryPoint]
}

public struct HistoryPoint: Codable, Sendable {
  public var timeMs: Int64
  public var recordsPerSecond: Double
  public var lag: [NamedValue]
  /// Alert transitions written in this interval.
  public var alertsRaised: Int
  public var activeAlerts: Int
}

public struct NamedValue: Codable, Sendable {
  public var name: String
  public var value: Double
}

public enum APICoding {
  public static func encoder() -> JSONEncoder {
    let e = JSONEncoder()
    e.keyEncodingStrategy = .convertToSnakeCase
    e.outputFormatting = [.sortedKeys]
    return e
  }

  public static func decoder() -> JSONDecoder {
    let d = JSONDecoder()
    d.keyDecodingStrategy = .convertFromSnakeCase
    return d
  }
}
