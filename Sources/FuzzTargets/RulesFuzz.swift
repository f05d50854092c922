import Foundation
import Payload

@testable import Rules

extension FuzzTargets {
  /// Rule files and rule checkpoints. An even first byte: the rest is rule source, loaded the way
  /// `weir rules test` and the daemon load it (`RuleFile.parse`, then `RuleEngine.reload(files:)`), and
  /// when it compiles, a fixed set of records goes through it so the fuzzed windows and functions run. An
  /// odd first byte: the rest is a checkpoint (as stored in SQLite) restored into an engine running the
  /// shipped rules of config/rules.
  static func rules(_ data: UnsafeRawBufferPointer) {
    guard let first = data.first else { return }
    let rest = UnsafeRawBufferPointer(rebasing: data[1...])
    if first & 1 == 0 { RulesFuzz.source(rest) } else { RulesFuzz.checkpoint(rest) }
  }
}

/// The two halves of the `rules` harness and the records both push through an engine.
enum RulesFuzz {
  static let fileName = "fuzz.sql"

  /// config/rules/*.sql, found from this file's path; the architecture's two rules if the checkout moved.
  static let shipped: [(source: String, fileName: String)] = {
    let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("config/rules")
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
      .filter { $0.hasSuffix(".sql") }.sorted()
    let files = names.compactMap { name -> (String, String)? in
      guard let text = try? String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8) else { return nil }
      return (text, name)
    }
    return files.isEmpty ? [(RulesBenchmark.rules, "bench.sql")] : files
  }()

  /// Processing time for the engines the harness makes: moved by hand, so runs are reproducible.
  final class Clock {
    var now: Int64 = 0
  }

  static func source(_ bytes: UnsafeRawBufferPointer) {
    let text = String(decoding: bytes, as: UTF8.self)
    let (rules, errors) = RuleFile.parse(text, fileName: fileName)
    for error in errors {
      precondition(error.file == fileName && error.line >= 1 && error.column >= 1, "unlocated error: \(error)")
      precondition(!error.message.isEmpty, "an error without a message at \(error)")
    }
    guard !rules.isEmpty else { return }
    let clock = Clock()
    let engine = RuleEngine { clock.now }
    let report = engine.reload(files: [(text, fileName)])
    precondition(
      report.started == rules.map(\.name), "reload loaded \(report.started), parse gave \(rules.map(\.name))")
    precondition(report.refused.map(\.description) == errors.map(\.description), "reload and parse disagree")
    let topics = Array(Set(rules.map(\.topic))).sorted().prefix(3)
    let names = Set(rules.map(\.name))
    for alert in feed(engine, clock: clock, topics: Array(topics)) {
      precondition(names.contains(alert.rule), "an alert of an unknown rule \(alert.rule)")
      checkJSON(alert.json)
    }
    checkRoundTrip(engine, files: [(text, fileName)])
  }

  static func checkpoint(_ bytes: UnsafeRawBufferPointer) {
    let clock = Clock()
    let engine = RuleEngine { clock.now }
    let report = engine.reload(files: shipped)
    precondition(report.refused.isEmpty, "the shipped rules do not load: \(report.refused)")
    let before = engine.checkpoint()
    let changes = engine.changeCount
    do {
      try engine.restore(from: Array(bytes))
    } catch {
      precondition(!error.message.isEmpty, "a checkpoint error without a reason")
      precondition(engine.checkpoint() == before, "a failed restore changed the engine")
      precondition(engine.changeCount == changes, "a failed restore moved changeCount")
      return
    }
    checkRoundTrip(engine, files: shipped)
    for alert in feed(engine, clock: clock, topics: ["telemetry"]) { checkJSON(alert.json) }
    checkRoundTrip(engine, files: shipped)
  }

  /// Restoring a checkpoint into a fresh engine with the same rules gives back the same bytes.
  static func checkRoundTrip(_ engine: RuleEngine, files: [(source: String, fileName: String)]) {
    let bytes = engine.checkpoint()
    let copy = RuleEngine { 0 }
    copy.reload(files: files)
    do {
      try copy.restore(from: bytes)
    } catch {
      preconditionFailure("the engine's own checkpoint does not restore: \(error)")
    }
    precondition(copy.checkpoint() == bytes, "a restored checkpoint is not the same bytes")
  }

  static func checkJSON(_ json: [UInt8]) {
    let object = try? JSONSerialization.jsonObject(with: Data(json))
    precondition(object is [String: Any], "an alert is not a JSON object: \(String(decoding: json, as: UTF8.self))")
  }

  /// Payloads with the fields the shipped and test rules read, and the shapes a parser must survive.
  static let payloads: [String] = [
    #"{"device":"motor-1","kind":"motor","vibration":4.2,"temperature":71.5,"pressure":2.1,"current":1.2,"x":1,"a":{"b":[1,2]},"t":5}"#,
    #"{"device":"motor-1","kind":"motor","vibration":9.9,"temperature":99,"pressure":1.2,"current":3.5,"x":-7,"a":{"b":[3,{"c":4}]},"t":6}"#,
    #"{"device":"pump-2","kind":"pump","vibration":1e308,"temperature":-1e308,"pressure":0,"current":0.1,"x":"text","t":null}"#,
    #"{"device":"pump-2","kind":"pump","pressure":1.4,"pressure":9,"x":1.7976931348623157e308,"axes":[0.5,-1.5,2.5]}"#,
    #"{"device":"\u00e9\ud83d\ude00\"","kind":"motor","vibration":123456789012345678901234567890,"temperature":1e-400}"#,
    #"{"device":"m\#u{FF}3","x":true,"y":false,"kind":null}"#,
    #"{"device":[{"deep":[[[[[[[[1]]]]]]]]}],"kind":"motor","vibration":"#,
    #"[1,2,3]"#,
    "",
  ]

  /// One record of the fixed feed: when (offset from the base time), key, payload.
  static let records: [(at: Int64, key: [UInt8]?, payload: Int)] = [
    (0, Array("motor-1".utf8), 0), (1_000, Array("motor-1".utf8), 1), (45_000, Array("pump-2".utf8), 2),
    (600_000, Array("pump-2".utf8), 3), (590_000, Array("motor-1".utf8), 0), (3_600_000, nil, 4),
    (3_660_000, [0xFF, 0xFE, 0x00], 5), (7_300_000, Array("motor-1".utf8), 6), (7_300_001, [], 7),
    (10_800_000, Array("motor-1".utf8), 1), (10_800_000, Array("pump-2".utf8), 8),
    (RuleEngine.timestampLimit - 1, Array("motor-1".utf8), 0), (Int64.max, Array("motor-1".utf8), 0),
  ]

  static let base: Int64 = 1_700_000_000_000

  /// Pushes the fixed records through every topic given, ticking the clock, then closes every window.
  static func feed(_ engine: RuleEngine, clock: Clock, topics: [String]) -> [AlertEvent] {
    var output = RuleOutput()
    var alerts: [AlertEvent] = []
    let payloadBytes = payloads.map { Array($0.utf8) }
    for (t, name) in topics.enumerated() {
      let topic = engine.topic(name)
      for (i, record) in records.enumerated() {
        clock.now += 20_000
        let timestamp = record.at > RuleEngine.timestampLimit / 2 ? record.at : base + record.at
        payloadBytes[record.payload].withUnsafeBytes { value in
          func process(_ key: UnsafeRawBufferPointer?) {
            engine.process(
              RuleInputRecord(
                partition: Int32(i % 2), offset: Int64(i + t), timestamp: timestamp, key: key, value: value),
              topic: topic, into: &output)
          }
          if let key = record.key { key.withUnsafeBytes { process($0) } } else { process(nil) }
        }
        if i % 4 == 3 {
          clock.now += 600_000
          engine.tick(into: &output)
        }
      }
    }
    engine.closeAllWindows(into: &output)
    let changes = engine.changeCount
    clock.now += 86_400_000
    engine.tick(into: &output)
    precondition(engine.changeCount == changes, "an idle tick after closing every window moved changeCount")
    alerts += output.alerts
    for late in output.lateRecords { precondition(!late.topic.isEmpty, "a late record for no topic") }
    return alerts
  }
}
