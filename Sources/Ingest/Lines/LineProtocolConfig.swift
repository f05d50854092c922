public import WeirCore

/// How to turn the lines a serial device sends into records: the framing, the decoder, the
/// topic, the key and the event time. Read from the configuration by Gateway (snake_case keys,
/// docs/serial.md).
public struct LineProtocolConfig: Sendable, Equatable, ConfigValidating {
  /// The line format.
  public enum Format: String, Sendable, CaseIterable {
    /// NMEA 0183 sentences (`$GPGGA,...*hh`), checksum verified; GGA, RMC, VTG and XDR decoded
    /// into named fields, other sentences into a `fields` array.
    case nmea
    /// Comma-separated values with typed columns, named by a header line or by `columns`.
    case csv
    /// One JSON object per line, stored unchanged.
    case jsonLines = "json_lines"
  }

  /// What ends a line.
  public enum Terminator: String, Sendable, CaseIterable {
    /// `\n`; a `\r` before it is removed. Also right for `\r\n`.
    case lf
    /// `\r` alone, as some instruments send; a `\n` after it is ignored.
    case cr
  }

  /// Units of a numeric event-time field.
  public enum TimestampUnit: String, Sendable, CaseIterable {
    case seconds = "s"
    case milliseconds = "ms"
    case microseconds = "us"
    case nanoseconds = "ns"
  }

  /// What to do with a line that lacks the configured timestamp field.
  public enum MissingTimestamp: String, Sendable, CaseIterable {
    /// Send it to the dead-letter topic (`missing_timestamp`).
    case deadLetter = "dead_letter"
    /// Use the time the line was read.
    case readTime = "read_time"
  }

  /// Required.
  public var format: Format
  /// The log topic the records go to. Default: `telemetry`.
  public var topic: String
  /// Longest line accepted, in bytes, without its terminator; longer lines go to the dead-letter
  /// topic (`line_too_long`, first `max_line_length` bytes kept). Default: 4096.
  public var maxLineLength: Int
  /// Default: `lf`.
  public var terminator: Terminator
  /// Top-level field of the decoded record whose value is the record key. Default: none, and the
  /// key is the port's `device_id` (or null when that is not set either). A line without the field
  /// goes to the dead-letter topic (`missing_key`).
  public var keyField: String?
  /// Top-level field holding the event time: a number in `timestamp_unit` since the Unix epoch,
  /// or an RFC 3339 string (`2024-05-01T12:00:00.250Z`). Default: none (the read time).
  public var timestampField: String?
  /// Default: `ms`.
  public var timestampUnit: TimestampUnit
  /// Default: `dead_letter`.
  public var timestampMissing: MissingTimestamp
  /// Event times from `timestamp_field` outside this range go to the dead-letter topic
  /// (`bad_timestamp`). YAML `time_min` and `time_max`: RFC 3339 or epoch milliseconds.
  /// Default: ``EventTimeRange/standard``, 2000-01-01 to 2100-01-01.
  public var timeRange: EventTimeRange
  /// CSV: the first line the source reads is a header naming the columns; a later line equal to it
  /// (a device restart) is skipped. Default: false (then `columns` names the columns).
  public var csvHeader: Bool
  /// CSV: the columns in order, or with `csv_header`, types for the header's names (a header
  /// column not listed has type `auto`). Default: none.
  public var columns: [CSVColumn]
  /// CSV: the field separator, one ASCII character. Default: `,`.
  public var delimiter: String
  /// NMEA: a sentence without `*hh` goes to the dead-letter topic (`bad_checksum`). Default: true.
  public var nmeaRequireChecksum: Bool
  /// NMEA: only these sentence types (`GGA`, `RMC`...) are recorded; others are counted as skipped.
  /// Default: none (every sentence).
  public var nmeaSentences: [String]?

  public init(
    format: Format, topic: String = "telemetry", maxLineLength: Int = 4096, terminator: Terminator = .lf,
    keyField: String? = nil, timestampField: String? = nil, timestampUnit: TimestampUnit = .milliseconds,
    timestampMissing: MissingTimestamp = .deadLetter, timeRange: EventTimeRange = .standard, csvHeader: Bool = false,
    columns: [CSVColumn] = [], delimiter: String = ",", nmeaRequireChecksum: Bool = true, nmeaSentences: [String]? = nil
  ) {
    self.format = format
    self.topic = topic
    self.maxLineLength = maxLineLength
    self.terminator = terminator
    self.keyField = keyField
    self.timestampField = timestampField
    self.timestampUnit = timestampUnit
    self.timestampMissing = timestampMissing
    self.timeRange = timeRange
    self.csvHeader = csvHeader
    self.columns = columns
    self.delimiter = delimiter
    self.nmeaRequireChecksum = nmeaRequireChecksum
    self.nmeaSentences = nmeaSentences
  }

  /// What is wrong with this configuration, one sentence per problem; empty when it can be used.
  /// Keys are named as they are written in YAML.
  public func problems() -> [ConfigIssue] {
    var issues: [ConfigIssue] = []
    if topic.isEmpty { issues.append(ConfigIssue(key: "topic", "must not be empty")) }
    if maxLineLength < 16 || maxLineLength > 1 << 20 {
      issues.append(ConfigIssue(key: "max_line_length", "\(maxLineLength) must be between 16 and 1048576"))
    }
    if let keyField, keyField.isEmpty { issues.append(ConfigIssue(key: "key_field", "must not be empty when given")) }
    if let timestampField, timestampField.isEmpty {
      issues.append(ConfigIssue(key: "timestamp_field", "must not be empty when given"))
    }
    if timeRange.earliestMs > timeRange.latestMs {
      issues.append(
        ConfigIssue(
          key: "time_min",
          "\(EventTimeRange.format(timeRange.earliestMs)) is after time_max (\(EventTimeRange.format(timeRange.latestMs)))"
        ))
    }
    if format == .csv {
      if !csvHeader && columns.isEmpty {
        issues.append(ConfigIssue(key: "columns", "a CSV source needs either csv_header: true or a list of columns"))
      }
      var seen: Set<String> = []
      for (i, column) in columns.enumerated() {
        if column.name.isEmpty { issues.append(ConfigIssue(key: "columns[\(i)].name", "must not be empty")) }
        if !seen.insert(column.name).inserted {
          issues.append(ConfigIssue(key: "columns[\(i)].name", "'\(column.name)' appears twice"))
        }
      }
      if delimiter.utf8.count != 1 || delimiter == "\"" || delimiter == "\n" || delimiter == "\r" {
        issues.append(
          ConfigIssue(key: "delimiter", "'\(delimiter)' must be one ASCII character other than a quote or a line end"))
      }
    } else {
      if !columns.isEmpty { issues.append(ConfigIssue(key: "columns", "only used with format: csv")) }
      if csvHeader { issues.append(ConfigIssue(key: "csv_header", "only used with format: csv")) }
    }
    if format != .nmea && nmeaSentences != nil {
      issues.append(ConfigIssue(key: "nmea_sentences", "only used with format: nmea"))
    }
    if let sentences = nmeaSentences {
      for s in sentences
      where s.utf8.count < 2 || s.utf8.count > 5 || !s.allSatisfy({ $0.isASCII && ($0.isUppercase || $0.isNumber) }) {
        issues.append(ConfigIssue(key: "nmea_sentences", "'\(s)' is not a sentence type such as GGA or RMC"))
      }
    }
    return issues
  }
}
