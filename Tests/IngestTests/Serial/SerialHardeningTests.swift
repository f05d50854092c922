import Foundation
import Payload
import Testing
import WeirCore

@testable import Ingest
@testable import PartitionedLog

/// Input a device or a config file can produce that once could trap, hang or write something
/// that is not JSON: each is now a dead letter, an error with its reason, or a documented value.
@Suite struct SerialHardeningTests {
  static let epochCases: [(String, LineProtocolConfig.TimestampUnit, Int64?)] = [
    ("1714564800.25", .seconds, 1_714_564_800_250),
    ("1714564800.1239", .seconds, 1_714_564_800_123),
    ("1.7145648e9", .seconds, 1_714_564_800_000),
    ("-0.5", .milliseconds, -1),
    ("-1", .nanoseconds, -1),
    ("1.5e3", .milliseconds, 1500),
    ("123456789", .microseconds, 123_456),
    ("+42", .milliseconds, 42),
    ("1e-100000", .seconds, 0),
    ("0e100000", .seconds, 0),
    ("9223372036854775807", .milliseconds, .max),
    ("9223372036854775807", .seconds, nil),
    ("9223372036854775808", .milliseconds, nil),
    ("99999999999999999999999999", .nanoseconds, nil),
    ("1e19", .milliseconds, nil),
    ("1e100000", .microseconds, nil),
    ("-1e400", .seconds, nil),
    ("1E+0000000000000000000000000000000000000003", .milliseconds, 1000),
    ("0000000000000000000000000000001714564800", .seconds, 1_714_564_800_000),
    ("nan", .seconds, nil),
  ]

  @Test(arguments: 0..<epochCases.count)
  func epochNumbersAreExactAndChecked(_ i: Int) {
    let (text, unit, expected) = Self.epochCases[i]
    let ms = Array(text.utf8).withUnsafeBytes { EpochTime.epochNumber($0, unit: unit) }
    #expect(ms == expected, "\(text) \(unit)")
  }

  static let decimalCases: [(String, String?)] = [
    ("1e308", "1e308"),
    ("1.7976931348623157e308", "1.7976931348623157e308"),
    ("1.8e308", nil),
    ("1e309", nil),
    ("-1e999", nil),
    ("1e100000000000000000000", nil),
    ("0.0001e312", "0.0001e312"),
    ("00000000000000000000000000000000000000001", "1"),
    ("1e-999", "1e-999"),
    ("0e999", "0e999"),
  ]

  @Test(arguments: 0..<decimalCases.count)
  func decimalTextBeyondADoubleIsNotANumber(_ i: Int) {
    let (text, expected) = Self.decimalCases[i]
    let writer = JSONWriter()
    let wrote = Array(text.utf8).withUnsafeBytes { writer.decimalText($0) }
    #expect((wrote ? String(decoding: writer.bytes, as: UTF8.self) : nil) == expected, "\(text)")
  }

  /// JSON lines are stored as they are, checked by the same reader as every other JSON payload: the nesting limit
  /// counts the containers around the innermost value, 64 in all.
  static let depthCases: [(String, Bool)] = [
    (#"{"a":"# + String(repeating: "[", count: 62) + "1" + String(repeating: "]", count: 62) + "}", true),
    (#"{"a":"# + String(repeating: "[", count: 63) + String(repeating: "]", count: 63) + "}", true),
    (#"{"a":"# + String(repeating: "[", count: 63) + "1" + String(repeating: "]", count: 63) + "}", false),
    (#"{"a":"# + String(repeating: "[", count: 63) + "\"x\"" + String(repeating: "]", count: 63) + "}", false),
    (#"{"a":"# + String(repeating: "[", count: 64) + String(repeating: "]", count: 64) + "}", false),
  ]

  @Test(arguments: 0..<depthCases.count)
  func lineScannerAgreesWithTheGatewaysJSONAtTheDepthLimit(_ i: Int) {
    let (text, valid) = Self.depthCases[i]
    let bytes = Array(text.utf8)
    let serial = bytes.withUnsafeBytes { JSONFields(keys: ["a"]).validate($0, requireObject: true) == nil }
    let gateway = bytes.withUnsafeBytes { JSONFields.validate($0) == nil }
    #expect(serial == valid)
    #expect(gateway == valid)
  }

  static func nmea(_ body: String) -> String {
    "$\(body)*" + String(format: "%02X", body.utf8.reduce(UInt8(0)) { $0 ^ $1 })
  }

  static let nmeaCases: [(String, String)] = [
    (
      nmea("GPGGA,123519,4807.038,N,01131.000,E,1,08,1e999,545.4,M,46.9,M,,"),
      "GGA field 8 (hdop): '1e999' is not a number (or is beyond ±1.8e308)"
    ),
    (
      nmea("GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,1e400,W"),
      "RMC field 10 (magnetic variation): '1e400' is out of range (over 180)"
    ),
    (
      nmea("GPRMC,123519,A," + String(repeating: "9", count: 400) + ",N,01131.000,E,1,1,230394,,"),
      "RMC field 3 (latitude): '\(String(repeating: "9", count: 400))' is out of range"
    ),
    (nmea("GPGSV" + String(repeating: ",", count: 300)), "NMEA sentence with more than 256 fields"),
  ]

  @Test(arguments: 0..<nmeaCases.count)
  func nmeaFieldsOutOfRangeAreRejected(_ i: Int) {
    let (line, detail) = Self.nmeaCases[i]
    let decoder = NMEADecoder(requireChecksum: true, sentences: nil)
    let outcome = Array(line.utf8).withUnsafeBytes { decoder.decode($0, into: JSONWriter()) }
    guard case .reject(.unparsable, let got) = outcome else {
      Issue.record("\(line): \(outcome)")
      return
    }
    #expect(got == detail)
  }

  static func csv(_ config: LineProtocolConfig, _ lines: [String]) -> [String] {
    let decoder = CSVLineDecoder(config)
    let writer = JSONWriter()
    return lines.map { line in
      switch Array(line.utf8).withUnsafeBytes({ decoder.decode($0, into: writer) }) {
      case .record: return String(decoding: writer.bytes, as: UTF8.self)
      case .skip: return "skip"
      case .reject(let reason, let detail): return "\(reason.rawValue): \(detail)"
      }
    }
  }

  @Test func csvFieldCountsAndHeaderNamesAreBounded() {
    let header = LineProtocolConfig(format: .csv, csvHeader: true)
    let wide = (0...CSVLineDecoder.maxColumns).map { "c\($0)" }.joined(separator: ",")
    let long = String(repeating: "n", count: CSVLineDecoder.maxNameBytes + 1)
    #expect(
      Self.csv(
        header, [wide, "a,\(long)", "a,a,a_2,,a", "1,2,3,4,5", "1,2,3,4,5,6", String(repeating: ",", count: 5000)])
        == [
          "unparsable: header line: more than 1024 columns",
          "unparsable: header line: the name of column 2 is longer than 256 bytes",
          "skip",
          #"{"a":1,"a_2":2,"a_2_2":3,"column_4":4,"a_3":5}"#,
          "unparsable: expected 5 fields, got more",
          "unparsable: expected 5 fields, got more",
        ])
    let typed = LineProtocolConfig(
      format: .csv, columns: [CSVColumn("i", .int), CSVColumn("f", .float), CSVColumn("a")])
    #expect(
      Self.csv(typed, ["99999999999999999999,1,1", "1,1e999,1e999", "1,-inf,1e308"])
        == [
          "unparsable: column 'i': '99999999999999999999' is not a 64-bit int",
          "unparsable: column 'f': '1e999' is not a float within ±1.8e308",
          #"{"i":1,"f":null,"a":1e308}"#,
        ])
    #expect(Self.csv(typed, ["1,1,1e999"]) == [#"{"i":1,"f":1,"a":"1e999"}"#])
  }

  /// Feeds `text` through a framer into a pipeline, as the source does: a pass stops when its
  /// output budget is spent and the next one frames what it left. Returns the passes' record
  /// and dead-letter counts, the largest output of one pass and the output of all.
  static func passes(
    _ text: [UInt8], _ config: LineProtocolConfig, log: SerialTestLog, budget: Int = LinePipeline.outputBudget
  ) throws -> (
    passes: Int, records: Int64, deadLetters: Int64, largest: Int, total: Int
  ) {
    let router = try LogRouter(store: log.store, source: "serial:test")
    let route = try router.route(config.topic)
    let pipeline = LinePipeline(config: config, port: SerialPortConfig(path: "/dev/null"), router: router, route: route)
    pipeline.budget = budget
    let framer = LineFramer(maxLineLength: config.maxLineLength, terminator: config.terminator)
    var status = SerialPortStatus(path: "/dev/null", deviceId: nil)
    // Now: records of 1970 would be gone to retention before they are counted.
    let readTime = Int64(Date().timeIntervalSince1970 * 1000)
    var offset = 0
    var passes = 0
    var largest = 0
    var total = 0
    while offset < text.count || framer.hasUnframed {
      passes += 1
      if framer.hasUnframed { framer.frameBuffered { pipeline.handle($0, readTime: readTime) } }
      while offset < text.count && pipeline.hasRoom && !framer.hasUnframed {
        let space = framer.readSpace
        let n = min(space.count, text.count - offset)
        text.withUnsafeBytes { space.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<offset + n])) }
        offset += n
        framer.consume(n) { pipeline.handle($0, readTime: readTime) }
      }
      largest = max(largest, pipeline.pendingBytes)
      total += pipeline.pendingBytes
      try router.commit()
      pipeline.drainCounts(into: &status, now: readTime)
    }
    return (passes, status.records, status.deadLetterTotal, largest, total)
  }

  /// A read pass of 1 MiB of two-byte garbage lines once made 57 MB of dead letters, over the
  /// log's 16 MiB batch limit, and the commit's error stopped the source.
  @Test func shortLinesCannotOverflowABatch() throws {
    let log = try SerialTestLog()
    let garbage = [UInt8](repeating: 0, count: 1 << 19).enumerated().map { UInt8($0.offset % 2 == 0 ? 0x78 : 0x0A) }
    let nmea = try Self.passes(garbage, LineProtocolConfig(format: .nmea), log: log)
    #expect(nmea.deadLetters == 1 << 18)
    #expect(nmea.total > 16 << 20, "in one pass, this input would be over the batch limit")
    #expect(nmea.passes > 1)
    #expect(nmea.largest < LinePipeline.outputBudget + 4096)
    // Each two-byte line becomes a record of about 220 bytes.
    let commas = [UInt8](repeating: 0, count: 1 << 17).enumerated().map { UInt8($0.offset % 2 == 0 ? 0x2C : 0x0A) }
    let columns = (0..<2).map { CSVColumn(String(repeating: "k\($0)", count: 50)) }
    let csv = try Self.passes(commas, LineProtocolConfig(format: .csv, columns: columns), log: log)
    #expect(csv.records == 1 << 16)
    #expect(csv.passes > 1)
    #expect(csv.largest < LinePipeline.outputBudget + 4096)
    #expect(log.count("telemetry") == 1 << 16)
  }

  /// A pass that stops after any line leaves the rest in the framer, and the next pass frames it:
  /// the same records and dead letters as without stopping, whatever the terminators.
  @Test(arguments: [LineProtocolConfig.Terminator.lf, .cr])
  func passesStoppingAfterEveryLineFrameTheSame(_ terminator: LineProtocolConfig.Terminator) throws {
    let end = terminator == .lf ? "\n" : "\r"
    let lines = [
      #"{"a":1}"#, "", #"{"b":2}"# + "\r", "not json", String(repeating: "x", count: 40), "\n" + #"{"c":3}"#, "  ",
      #"{"d":"\#(String(repeating: "y", count: 20))"}"#,
    ]
    let text = Array((lines.joined(separator: end) + end + #"{"partial""#).utf8)
    let config = LineProtocolConfig(format: .jsonLines, maxLineLength: 32, terminator: terminator)
    let whole = try SerialTestLog()
    let stopping = try SerialTestLog()
    let once = try Self.passes(text, config, log: whole)
    let many = try Self.passes(text, config, log: stopping, budget: 1)
    #expect(once.passes == 1)
    #expect(many.passes > 5)
    #expect(many.records == once.records && many.deadLetters == once.deadLetters)
    #expect(try stopping.records("telemetry").map(\.value) == whole.records("telemetry").map(\.value))
    #expect(try stopping.records("deadletter").map(\.error) == whole.records("deadletter").map(\.error))
  }

  static let rangeCases: [(String, EventTimeRange, String?)] = [
    (#"{"ts":1714564800000}"#, .standard, nil),
    (
      #"{"ts":0}"#, .standard,
      "bad_timestamp: field 'ts': '0' is 1970-01-01T00:00:00Z, outside the accepted range 2000-01-01T00:00:00Z to 2100-01-01T00:00:00Z (time_min, time_max)"
    ),
    (
      #"{"ts":"2100-01-01T00:00:00.001Z"}"#, .standard,
      "bad_timestamp: field 'ts': '2100-01-01T00:00:00.001Z' is 2100-01-01T00:00:00Z, outside the accepted range 2000-01-01T00:00:00Z to 2100-01-01T00:00:00Z (time_min, time_max)"
    ),
    (
      #"{"ts":1714564800000}"#, EventTimeRange(earliestMs: 0, latestMs: 1_000_000_000_000),
      "bad_timestamp: field 'ts': '1714564800000' is 2024-05-01T12:00:00Z, outside the accepted range 1970-01-01T00:00:00Z to 2001-09-09T01:46:40Z (time_min, time_max)"
    ),
    (#"{"ts":-9223372036854775807}"#, EventTimeRange(earliestMs: .min, latestMs: .max), nil),
    (#"{"ts":1e400}"#, .standard, "bad_timestamp: field 'ts': '1e400' is not a time"),
  ]

  @Test(arguments: 0..<rangeCases.count)
  func eventTimesOutsideTheRangeAreDeadLetters(_ i: Int) throws {
    let (line, range, error) = Self.rangeCases[i]
    let log = try SerialTestLog()
    let config = LineProtocolConfig(format: .jsonLines, timestampField: "ts", timeRange: range)
    _ = try LinePipelineTests.ingest([Array((line + "\n").utf8)], config: config, log: log)
    let records = try log.records("telemetry")
    let dead = try log.records("deadletter")
    if let error {
      #expect(records.isEmpty)
      #expect(dead.map(\.error) == [error])
    } else {
      #expect(records.map(\.value) == [line])
      #expect(dead.isEmpty)
    }
  }

  /// Reading `time_min` and `time_max` is tested in GatewayTests' SerialModbusConfigTests.
  @Test func invertedTimeRangeIsRefused() {
    var inverted = LineProtocolConfig(format: .nmea)
    inverted.timeRange = EventTimeRange(earliestMs: 2, latestMs: 1)
    #expect(
      inverted.problems().map(\.description) == [
        "time_min: 1970-01-01T00:00:00Z is after time_max (1970-01-01T00:00:00Z)"
      ])
  }

  @Test func configurationValuesThatWouldOverflow() {
    let entry = RegisterMapEntry(name: "x", address: .max, type: .uint32)
    #expect(entry.problems() == [ConfigIssue(key: "address", "\(Int.max) must be between 0 and 65534 for a uint32")])
    let slave = ModbusSlaveConfig(unitId: 1, deviceId: "d", intervalMs: .max, registers: [entry])
    #expect(slave.problems().contains(ConfigIssue(key: "interval", "\(Int.max)ms must be between 10ms and 1d")))
    let port = SerialPortConfig(path: "/dev/x", reopenInitialDelayMs: .max, reopenMaxDelayMs: .max)
    #expect(
      port.problems().map(\.description) == [
        "reopen_initial_delay: \(Int.max)ms must be between 1ms and 1h",
        "reopen_max_delay: \(Int.max)ms must be at most 1h",
      ])
  }
}
