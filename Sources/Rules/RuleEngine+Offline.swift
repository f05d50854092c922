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
  public static func runOffline(rulesFile: String, inputFile: String, topic: String = "telemetry",
    output: (String) -> Void) throws
  {
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
    for line in inputData.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
      lineNumber += 1
      if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
      let record = try parseLine(Data(line), file: inputFile, line: lineNumber)
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

  private static func parseLine(_ line: Data, file: String, line number: Int) throws
    -> (timestamp: Int64, key: [UInt8], hasKey: Bool, value: [UInt8])
  {
    func fail(_ message: String) -> OfflineInputError { OfflineInputError(file: file, line: number, message: message) }
    guard let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any] else {
      throw fail("not a JSON object; expected {\"timestamp\": ..., \"key\": ..., \"value\": {...}}")
    }
    let timestamp: Int64
    switch object["timestamp"] {
    case let n as NSNumber:
      guard n.doubleValue.rounded() == n.doubleValue, n.doubleValue.magnitude < 9e15 else {
        throw fail("timestamp \(n) is not a whole number of epoch milliseconds")
      }
      timestamp = n.int64Value
    case let s as String:
      guard let t = RFC3339.parse(s) else { throw fail("timestamp '\(s)' is not RFC 3339") }
      timestamp = t
    case nil: throw fail("missing \"timestamp\" (epoch milliseconds or an RFC 3339 string)")
    default: throw fail("\"timestamp\" must be epoch milliseconds or an RFC 3339 string")
    }
    var key: [UInt8] = []
    var hasKey = false
    switch object["key"] {
    case let s as String:
      key = Array(s.utf8)
      hasKey = true
    case nil, is NSNull: break
    default: throw fail("\"key\" must be a string")
    }
    guard let value = object["value"] else { throw fail("missing \"value\" (the payload)") }
    let bytes = try JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys])
    return (timestamp, key, hasKey, Array(bytes))
  }
}

/// Processing time for offline runs: the newest event time seen so far.
private final class EventTimeClock {
  var now = Int64.min
}
