/// How to turn the lines a serial device sends into records: the framing, the decoder, the
/// topic, the key and the event time. Decoded from YAML with snake_case keys.
public struct LineProtocolConfig: Sendable, Equatable, Codable {
  /// The line format.
  public enum Format: String, Sendable, Codable, CaseIterable {
    /// NMEA 0183 sentences (`$GPGGA,...*hh`), checksum verified; GGA, RMC, VTG and XDR decoded
    /// into named fields, other sentences into a `fields` array.
    case nmea
    /// Comma-separated values with typed columns, named by a header line or by `columns`.
    case csv
    /// One JSON object per line, stored unchanged.
    case jsonLines = "json_lines"
  }

  /// What ends a line.
  public enum Terminator: String, Sendable, Codable {
    /// `\n`; a `\r` before it is removed. Also right for `\r\n`.
    case lf
    /// `\r` alone, as some instruments send; a `\n` after it is ignored.
    case cr
  }

  /// Units of a numeric event-time field.
  public enum TimestampUnit: String, Sendable, Codable, CaseIterable {
    case seconds = "s"
    case milliseconds = "ms"
    case microseconds = "us"
    case nanoseconds = "ns"
  }

  /// What to do with a line that lacks the configured timestamp field.
  public enum MissingTimestamp: String, Sendable, Codable {
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

  enum CodingKeys: String, CodingKey {
    case format, topic, terminator, columns, delimiter
    case maxLineLength = "max_line_length"
    case keyField = "key_field"
    case timestampField = "timestamp_field"
    case timestampUnit = "timestamp_unit"
    case timestampMissing = "timestamp_missing"
    case timeMin = "time_min"
    case timeMax = "time_max"
    case csvHeader = "csv_header"
    case nmeaRequireChecksum = "nmea_require_checksum"
    case nmeaSentences = "nmea_sentences"
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    let d = LineProtocolConfig(format: .jsonLines)
    format = try c.decode(Format.self, forKey: .format)
    topic = try c.decodeIfPresent(String.self, forKey: .topic) ?? d.topic
    maxLineLength = try c.decodeIfPresent(Int.self, forKey: .maxLineLength) ?? d.maxLineLength
    terminator = try c.decodeIfPresent(Terminator.self, forKey: .terminator) ?? d.terminator
    keyField = try c.decodeIfPresent(String.self, forKey: .keyField)
    timestampField = try c.decodeIfPresent(String.self, forKey: .timestampField)
    timestampUnit = try c.decodeIfPresent(TimestampUnit.self, forKey: .timestampUnit) ?? d.timestampUnit
    timestampMissing = try c.decodeIfPresent(MissingTimestamp.self, forKey: .timestampMissing) ?? d.timestampMissing
    timeRange = EventTimeRange(
      earliestMs: try Self.instant(c, .timeMin) ?? d.timeRange.earliestMs,
      latestMs: try Self.instant(c, .timeMax) ?? d.timeRange.latestMs)
    csvHeader = try c.decodeIfPresent(Bool.self, forKey: .csvHeader) ?? d.csvHeader
    columns = try c.decodeIfPresent([CSVColumn].self, forKey: .columns) ?? d.columns
    delimiter = try c.decodeIfPresent(String.self, forKey: .delimiter) ?? d.delimiter
    nmeaRequireChecksum = try c.decodeIfPresent(Bool.self, forKey: .nmeaRequireChecksum) ?? d.nmeaRequireChecksum
    nmeaSentences = try c.decodeIfPresent([String].self, forKey: .nmeaSentences)
  }

  /// `time_min` or `time_max`: RFC 3339 text or epoch milliseconds (YAML may give either as a number).
  private static func instant(_ c: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> Int64? {
    guard c.contains(key) else { return nil }
    if let ms = try? c.decode(Int64.self, forKey: key) { return ms }
    let text = try c.decode(String.self, forKey: key)
    guard let ms = EventTimeRange.instant(text) else {
      throw DecodingError.dataCorruptedError(
        forKey: key, in: c,
        debugDescription: "'\(text)' is not an RFC 3339 time (2000-01-01T00:00:00Z) or epoch milliseconds")
    }
    return ms
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(format, forKey: .format)
    try c.encode(topic, forKey: .topic)
    try c.encode(maxLineLength, forKey: .maxLineLength)
    try c.encode(terminator, forKey: .terminator)
    try c.encodeIfPresent(keyField, forKey: .keyField)
    try c.encodeIfPresent(timestampField, forKey: .timestampField)
    try c.encode(timestampUnit, forKey: .timestampUnit)
    try c.encode(timestampMissing, forKey: .timestampMissing)
    try c.encode(timeRange.earliestMs, forKey: .timeMin)
    try c.encode(timeRange.latestMs, forKey: .timeMax)
    try c.encode(csvHeader, forKey: .csvHeader)
    try c.encode(columns, forKey: .columns)
    try c.encode(delimiter, forKey: .delimiter)
    try c.encode(nmeaRequireChecksum, forKey: .nmeaRequireChecksum)
    try c.encodeIfPresent(nmeaSentences, forKey: .nmeaSentences)
  }

  /// What is wrong with this configuration, one sentence per problem; empty when it can be used.
  public func validate() -> [String] {
    var problems: [String] = []
    if topic.isEmpty { problems.append("topic: must not be empty") }
    if maxLineLength < 16 || maxLineLength > 1 << 20 {
      problems.append("max_line_length: \(maxLineLength) must be between 16 and 1048576")
    }
    if let keyField, keyField.isEmpty { problems.append("key_field: must not be empty when given") }
    if let timestampField, timestampField.isEmpty { problems.append("timestamp_field: must not be empty when given") }
    if timeRange.earliestMs > timeRange.latestMs {
      problems.append(
        "time_min: \(EventTimeRange.format(timeRange.earliestMs)) is after time_max (\(EventTimeRange.format(timeRange.latestMs)))"
      )
    }
    if format == .csv {
      if !csvHeader && columns.isEmpty {
        problems.append("columns: a CSV source needs either csv_header: true or a list of columns")
      }
      var seen: Set<String> = []
      for (i, column) in columns.enumerated() {
        if column.name.isEmpty { problems.append("columns[\(i)].name: must not be empty") }
        if !seen.insert(column.name).inserted { problems.append("columns[\(i)].name: '\(column.name)' appears twice") }
      }
      if delimiter.utf8.count != 1 || delimiter == "\"" || delimiter == "\n" || delimiter == "\r" {
        problems.append("delimiter: '\(delimiter)' must be one ASCII character other than a quote or a line end")
      }
    } else {
      if !columns.isEmpty { problems.append("columns: only used with format: csv") }
      if csvHeader { problems.append("csv_header: only used with format: csv") }
    }
    if format != .nmea && nmeaSentences != nil { problems.append("nmea_sentences: only used with format: nmea") }
    if let sentences = nmeaSentences {
      for s in sentences
      where s.utf8.count < 2 || s.utf8.count > 5 || !s.allSatisfy({ $0.isASCII && ($0.isUppercase || $0.isNumber) }) {
        problems.append("nmea_sentences: '\(s)' is not a sentence type such as GGA or RMC")
      }
    }
    return problems
  }
}
