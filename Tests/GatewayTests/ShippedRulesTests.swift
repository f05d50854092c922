import Foundation
import Payload
import Rules
import Testing
import WeirTestSupport

/// The shipped rules (config/rules) against firmware-sim's demo fleet: the two degrading devices
/// are alerted on before they fail and no healthy device is, whatever the seed and however the
/// fleet's clock falls against the windows' boundaries.
@Suite struct ShippedRulesTests {
  static let rulesDirectory = DaemonHarness.repository + "/config/rules"

  @Test(arguments: [20_260_105, 7, 99])
  func degradingDevicesAloneAreAlerted(seed: Int) async throws {
    let dir = NSTemporaryDirectory() + "weir-shipped-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let dump = try ChildProcess(
      DaemonHarness.firmwareSim,
      [
        "dump", "--scenario", DaemonHarness.repository + "/config/fleet/demo.yaml", "--until-failures", "--seed",
        "\(seed)",
      ],
      logPath: dir + "/dump.jsonl")
    #expect(await dump.waitForExit(timeout: 60) == 0)
    let lines = dump.output.split(separator: "\n").filter { $0.hasPrefix("{") }.map { Array($0.utf8) }
    let timestamps = try lines.map { line -> Int64 in
      let object = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any]
      return (object?["ts"] as? NSNumber)?.int64Value ?? 0
    }
    let keys = try lines.map { line -> [UInt8] in
      let object = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any]
      return Array(((object?["device"] as? String) ?? "").utf8)
    }
    let start = timestamps.min() ?? 0
    let failures: [String: Int64] = ["motor-0007": start + 2_700_000, "pump-0003": start + 3_300_000]
    let files = try ["motors.sql", "pumps.sql"].map {
      (source: try String(contentsOfFile: Self.rulesDirectory + "/" + $0, encoding: .utf8), fileName: $0)
    }
    // Shift the fleet's clock against the window boundaries (the rules read event time from the record).
    for shift in [Int64(0), 37_000, 250_000, 517_000] {
      let engine = RuleEngine(clock: ContinuousClock())
      #expect(engine.reload(files: files).refused.isEmpty)
      var output = RuleOutput()
      var raised: [String: Int64] = [:]
      for i in lines.indices {
        let ts = timestamps[i] + shift
        var line = lines[i]
        // Rewrite "ts":<old> in place; same digit count for these epochs.
        if let range = Self.range(of: Array("\"ts\":\(timestamps[i])".utf8), in: line) {
          line.replaceSubrange(range, with: Array("\"ts\":\(ts)".utf8))
        }
        line.withUnsafeBytes { value in
          keys[i].withUnsafeBytes { key in
            engine.process(
              RuleInputRecord(partition: 0, offset: Int64(i), timestamp: ts, key: key, value: value),
              topic: "telemetry",
              into: &output)
          }
        }
        for alert in output.alerts where alert.state == .raised {
          raised[alert.key] = raised[alert.key] ?? alert.windowEnd
        }
        output.removeAll()
      }
      #expect(Set(raised.keys) == Set(failures.keys), "seed \(seed), shift \(shift): \(raised)")
      for (device, failure) in failures {
        guard let at = raised[device] else { continue }
        let leadMinutes = (failure + shift - at) / 60_000
        #expect(leadMinutes >= 10, "seed \(seed), shift \(shift): \(device) warned only \(leadMinutes) min ahead")
      }
    }
  }

  static func range(of needle: [UInt8], in haystack: [UInt8]) -> Range<Int>? {
    guard needle.count <= haystack.count else { return nil }
    for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] {
      if Array(haystack[i..<(i + needle.count)]) == needle { return i..<(i + needle.count) }
    }
    return nil
  }
}
