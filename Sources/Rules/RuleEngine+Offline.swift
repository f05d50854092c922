import Foundation
import Payload

/// A problem with the input of an offline rule test.
public struct OfflineInputError: Error, Sendable, CustomStringConvertible {
  /// The input file.
  public var file: String
  /// The 1-based line, or 0 for the file as a whole.
  public var line: Int
  /// What was wrong.
  public var message: String

  public var description: String { line > 0 ? "\(file):\(line): \(message)" : "\(file): \(message)" }
}

extension RuleEngine {
  /// Runs the rules of `rulesFile` over the JSON-lines records of `inputFile` and writes each alert as a JSON line.
  ///
  /// Each input line is `{"timestamp": <epoch ms or RFC 3339>, "key": "...", "value": {payload}}`; all lines belong
  /// to `topic`, partition 0, with the line number as offset. Processing time follows the newest event time seen,
  /// so idle timeouts behave as they would have live. At the end of the input every open window is closed.
  /// Throws `RuleLoadError` for invalid rules and `OfflineInputError` for unreadable input.
  public static func runOffline(
    rulesFile: String, inputFile: String, topic: String = "telemetry",
    output: (String) -> Void
  ) throws {
    guard let rulesData = FileManager.default.contents(atPath: rulesFile) else {
      throw OfflineInputError(file: rulesFile, line: 0, message: "cannot read the rules file")
    }
    guard let inputData = FileManager.default.contents(atPath: inputFile) else {
      throw OfflineInputError(file: inputFile, line: 0, message: "cannot read the input file")
    }
    let clock = EventTimeClock()
    let engine = RuleEngine { clock.now }
    let report = engine.reload(source: String(decoding: rulesData, as: UTF8.self), fileName: rulesFile)
    if !report.refused.isEmpty { throw RuleLoadError(errors: report.refused) }
    let topicID = engine.topic(topic)
    var out = RuleOutput()
    func drain() {
      for alert in out.alerts { output(alert.jsonString) }
      out.removeAll()
    }
    var lineNumber = 0
    let fields = JSONFields(keys: ["timestamp", "key", "value"])
    for line in inputData.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
      lineNumber += 1
      if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
      let record = try parseLine(line, fields, file: inputFile, line: lineNumber)
      clock.now = max(clock.now, record.timestamp)
      record.value.withUnsafeBytes { value in
        record.key.withUnsafeBytes { key in
          let input = RuleInputRecord(
            partition: 0, offset: Int64(lineNumber), timestamp: record.timestamp,
            key: record.hasKey ? key : nil, value: value)
          engine.process(input, topic: topicID, into: &out)
        }
      }
      drain()
    }
    engine.closeAllWindows(into: &out)
    drain()
  }

  /// One input line, read with the one JSON reader; the payload is passed on as the bytes the line holds.
  private static func parseLine(_ line: Data, _ fields: JSONFields, file: String, line number: Int) throws
    -> (timestamp: Int64, key: [UInt8], hasKey: Bool, value: [UInt8])
  {
    func fail(_ message: String) -> OfflineInputError { OfflineInputError(file: file, line: number, message: message) }
    return try line.withUnsafeBytes { raw in
      if let problem = fields.validate(raw, requireObject: true) {
        throw fail("not a JSON object (\(problem)); expected {\"timestamp\": ..., \"key\": ..., \"value\": {...}}")
      }
      func slice(_ span: JSONSpan) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: raw[span.range]) }
      let timestamp: Int64
      guard let t = fields[0] else { throw fail("missing \"timestamp\" (epoch milliseconds or an RFC 3339 string)") }
      switch t.kind {
      case .number:
        guard let v = JSONNumber.parse(slice(t)), v.rounded() == v, v.magnitude < 9e15 else {
          throw fail(
            "timestamp \(String(decoding: slice(t), as: UTF8.self)) is not a whole number of epoch milliseconds")
        }
        timestamp = Int64(v)
      case .string:
        let text = JSONString.text(slice(t), escaped: t.escaped)
        guard let ms = RFC3339.parse(text) else { throw fail("timestamp '\(text)' is not RFC 3339") }
        timestamp = ms
      default: throw fail("\"timestamp\" must be epoch milliseconds or an RFC 3339 string")
      }
      var key: [UInt8] = []
      var hasKey = false
      if let k = fields[1], k.kind != .null {
        guard k.kind == .string else { throw fail("\"key\" must be a string") }
        key = k.escaped ? JSONString.unescape(slice(k)) : Array(slice(k))
        hasKey = true
      }
      guard let v = fields[2] else { throw fail("missing \"value\" (the payload)") }
      // A string payload keeps its quotes: the value is the JSON text itself.
      let value = v.kind == .string ? Array(raw[v.range.lowerBound - 1..<v.range.upperBound + 1]) : Array(slice(v))
      return (timestamp, key, hasKey, value)
    }
  }
}

/// Processing time for offline runs: the newest event time seen so far.
private final class EventTimeClock {
  var now = Int64.min
}
