import PartitionedLog
import Payload

/// Turns the lines of one serial source into records (or dead letters) on its router: decodes
/// each line, takes the key and the event time, and appends. Owned by the source thread; the
/// buffers are reused for every line.
final class LinePipeline {
  enum Decoder {
    case nmea(NMEADecoder)
    case csv(CSVLineDecoder)
    case jsonLines
  }

  let config: LineProtocolConfig
  let router: LogRouter
  let route: TopicRoute
  let decoder: Decoder
  private let writer = JSONWriter()
  private let baseHeaders = RecordHeaders()
  private let headers = RecordHeaders()
  private let deviceKey: [UInt8]?
  /// The configured key and time fields (top-level members), found while a record is validated.
  private let fields: JSONFields
  private let keySlot: Int?
  private let timeSlot: Int?
  private var keyScratch: [UInt8] = []

  /// Bytes appended to the router since the last commit, about as the batches hold them. A read
  /// pass ends once this reaches ``outputBudget``: short lines can each become a much longer
  /// record or dead letter, and a pass must stay well inside the log's batch limit (16 MiB).
  var pendingBytes = 0
  /// The output of one read pass, in bytes; one more line's output may go over it.
  static let outputBudget = 4 << 20
  /// ``outputBudget``, lowered by the fuzz harness to stop a pass after every line.
  var budget = LinePipeline.outputBudget
  /// Record overhead in a batch besides key, value and headers, with room to spare.
  private static let recordOverhead = 32
  private let baseHeaderBytes: Int

  // Counted per read pass, then moved into the status once the pass is committed.
  var records = 0
  var skipped = 0
  var deadLetters = [Int](repeating: 0, count: DeadLetterReason.allCases.count)
  var deadLetterCount = 0

  init(config: LineProtocolConfig, port: SerialPortConfig, router: LogRouter, route: TopicRoute) {
    self.config = config
    self.router = router
    self.route = route
    switch config.format {
    case .nmea:
      decoder = .nmea(NMEADecoder(requireChecksum: config.nmeaRequireChecksum, sentences: config.nmeaSentences))
    case .csv: decoder = .csv(CSVLineDecoder(config))
    case .jsonLines: decoder = .jsonLines
    }
    deviceKey = port.deviceId.map { Array($0.utf8) }
    var names: [String] = []
    keySlot = config.keyField.map {
      names.append($0)
      return names.count - 1
    }
    timeSlot = config.timestampField.map {
      names.append($0)
      return names.count - 1
    }
    fields = JSONFields(keys: names)
    baseHeaders.add("source", router.source)
    baseHeaders.add("content-type", "application/json")
    // Two names and values, each with a length varint.
    baseHeaderBytes = "source".utf8.count + router.source.utf8.count + "content-type".utf8.count + 16 + 8
    keyScratch.reserveCapacity(256)
  }

  /// The pass may go on: its output is under ``outputBudget``.
  var hasRoom: Bool { pendingBytes < budget }

  /// Handles what the framer found; false once the pass's output budget is spent (the framer
  /// then stops, and the rest waits for the commit).
  @inline(__always) @discardableResult
  func handle(_ piece: LineFramer.Piece, readTime: Int64) -> Bool {
    switch piece {
    case .line(let line): handle(line: line, readTime: readTime)
    case .tooLong(let prefix):
      deadLetter(
        prefix, .lineTooLong, "line longer than \(config.maxLineLength) bytes (first \(prefix.count) kept)", readTime)
    }
    return hasRoom
  }

  /// A line cut short when the device went away or the source stopped.
  func handleIncomplete(_ partial: UnsafeRawBufferPointer, why: String, readTime: Int64) {
    guard !Self.isBlank(partial) else { return }
    deadLetter(partial, .unparsable, "incomplete line: \(why)", readTime)
  }

  func handle(line: UnsafeRawBufferPointer, readTime: Int64) {
    if Self.isBlank(line) { return }
    let outcome: LineOutcome
    var value = line
    var sentence: UnsafeRawBufferPointer?
    switch decoder {
    case .nmea(let nmea):
      guard let start = NMEADecoder.sentenceStart(line) else {
        return deadLetter(line, .unparsable, "no NMEA sentence start ('$' or '!')", readTime)
      }
      if start > 0 {
        let noise = UnsafeRawBufferPointer(rebasing: line[..<start])
        if !Self.isBlank(noise) { deadLetter(noise, .unparsable, "noise before an NMEA sentence", readTime) }
      }
      let s = UnsafeRawBufferPointer(rebasing: line[start...])
      sentence = s
      outcome = nmea.decode(s, into: writer)
      value = writer.bytes
    case .csv(let csv):
      outcome = csv.decode(line, into: writer)
      value = writer.bytes
    case .jsonLines:
      outcome = .record
    }
    switch outcome {
    case .skip:
      skipped += 1
      return
    case .reject(let reason, let detail):
      return deadLetter(line, reason, detail, readTime)
    case .record:
      break
    }

    var keyValue: JSONSpan?
    var timeValue: JSONSpan?
    if case .jsonLines = decoder {
      if let problem = fields.validate(value, requireObject: true) {
        return deadLetter(line, .invalidJSON, "\(problem)", readTime)
      }
    } else if fields.count > 0 {
      if let problem = fields.validate(value, requireObject: true) {
        return deadLetter(line, .unparsable, "decoded record is not valid JSON: \(problem)", readTime)
      }
    }
    if fields.count > 0 {
      keyValue = keySlot.flatMap { fields[$0] }
      timeValue = timeSlot.flatMap { fields[$0] }
    }

    var timestamp = readTime
    if timeSlot != nil {
      if let timeValue, timeValue.kind != .null {
        guard let ms = EpochTime.milliseconds(value, timeValue, unit: config.timestampUnit) else {
          let text = String(decoding: value[timeValue.range].prefix(64), as: UTF8.self)
          return deadLetter(line, .badTimestamp, "field '\(config.timestampField!)': '\(text)' is not a time", readTime)
        }
        guard config.timeRange.contains(ms) else {
          let text = String(decoding: value[timeValue.range].prefix(64), as: UTF8.self)
          return deadLetter(
            line, .badTimestamp,
            "field '\(config.timestampField!)': '\(text)' is \(EventTimeRange.format(ms)), outside the accepted range \(config.timeRange) (time_min, time_max)",
            readTime)
        }
        timestamp = ms
      } else if config.timestampMissing == .deadLetter {
        return deadLetter(line, .missingTimestamp, "no field '\(config.timestampField!)'", readTime)
      }
    }

    headers.removeAll()
    headers.append(contentsOf: baseHeaders)
    var headerBytes = baseHeaderBytes
    if let sentence {
      headers.add("nmea.sentence", bytes: sentence)
      headerBytes += sentence.count + 24
    }

    if keySlot != nil {
      guard let keyValue,
        keyValue.kind == .number || keyValue.kind == .bool || (keyValue.kind == .string && !keyValue.range.isEmpty)
      else {
        return deadLetter(
          line, .missingKey, "no usable field '\(config.keyField!)' (a non-empty string or a number)", readTime)
      }
      if keyValue.escaped {
        keyScratch.removeAll(keepingCapacity: true)
        JSONString.unescape(UnsafeRawBufferPointer(rebasing: value[keyValue.range])) { keyScratch.append($0) }
        keyScratch.withUnsafeBytes { append($0, value, timestamp, headerBytes) }
      } else {
        append(UnsafeRawBufferPointer(rebasing: value[keyValue.range]), value, timestamp, headerBytes)
      }
    } else if let deviceKey {
      deviceKey.withUnsafeBytes { append($0, value, timestamp, headerBytes) }
    } else {
      append(nil, value, timestamp, headerBytes)
    }
  }

  @inline(__always)
  private func append(
    _ key: UnsafeRawBufferPointer?, _ value: UnsafeRawBufferPointer, _ timestamp: Int64, _ headerBytes: Int
  ) {
    router.append(route, key: key, value: value, timestamp: timestamp, headers: headers)
    records += 1
    pendingBytes += (key?.count ?? 0) + value.count + headerBytes + Self.recordOverhead
  }

  func deadLetter(_ raw: UnsafeRawBufferPointer, _ reason: DeadLetterReason, _ detail: String, _ readTime: Int64) {
    router.deadLetter(raw, reason: reason, detail: detail, timestamp: readTime)
    // The headers: weir.error (reason and detail) and source.
    pendingBytes += raw.count + detail.utf8.count + router.source.utf8.count + 64 + Self.recordOverhead
    deadLetters[Self.reasonIndex(reason)] += 1
    deadLetterCount += 1
  }

  static func reasonIndex(_ reason: DeadLetterReason) -> Int {
    DeadLetterReason.allCases.firstIndex(of: reason) ?? 0
  }

  /// Empty, or only spaces, tabs, CR, LF and NUL bytes (line noise on an idle line).
  static func isBlank(_ bytes: UnsafeRawBufferPointer) -> Bool {
    for b in bytes where !(b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A || b == 0) { return false }
    return true
  }

  /// Moves the counts of the committed passes into `status` and resets them (and the output
  /// budget): call it once the log has taken what they count.
  func drainCounts(into status: inout SerialPortStatus, now: Int64) {
    pendingBytes = 0
    status.records += Int64(records)
    status.skippedLines += Int64(skipped)
    if records > 0 { status.lastRecordMs = now }
    if deadLetterCount > 0 {
      for (i, reason) in DeadLetterReason.allCases.enumerated() where deadLetters[i] > 0 {
        status.deadLetters[reason.rawValue, default: 0] += Int64(deadLetters[i])
        deadLetters[i] = 0
      }
    }
    records = 0
    skipped = 0
    deadLetterCount = 0
  }
}
