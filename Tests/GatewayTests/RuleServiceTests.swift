import Foundation
import Gateway
import PartitionedLog
import Rules
import RulesService
import Testing

final class TempDir {
  let path = NSTemporaryDirectory() + "weir-gateway-\(UUID().uuidString)"
  init() { try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
  deinit { try? FileManager.default.removeItem(atPath: path) }
}

@Suite(.serialized) struct RuleServiceTests {
  static let rules = """
    CREATE RULE overheat AS
    SELECT device, max(temperature) AS t_max FROM telemetry
    GROUP BY device, TUMBLING(1m)
    HAVING t_max > 95
    RAISE ALERT 'critical';
    """
  static let base: Int64 = 1_800_000_000_000

  /// motor-1 overheats between minutes 20 and 40 (raised, then cleared); motor-2 never does.
  static func readings(_ range: Range<Int>) -> [(String, Int64, String)] {
    var out: [(String, Int64, String)] = []
    for i in range {
      for device in ["motor-1", "motor-2"] {
        let hot = device == "motor-1" && (1200..<2400).contains(i)
        out.append((device, base + Int64(i) * 1000, "{\"device\":\"\(device)\",\"temperature\":\(hot ? 97.5 : 70.0)}"))
      }
    }
    return out
  }

  func append(_ store: LogStore, _ records: [(String, Int64, String)]) throws {
    let p = store.topic("telemetry")!.partitions[0]
    let b = RecordBatchBuilder()
    for chunk in stride(from: 0, to: records.count, by: 100) {
      b.reset()
      for (k, t, v) in records[chunk..<min(chunk + 100, records.count)] {
        b.append(timestamp: t, key: Array(k.utf8), value: Array(v.utf8))
      }
      try p.append(b)
    }
  }

  func alerts(_ store: LogStore) throws -> [String] {
    guard let p = store.topic("alerts")?.partitions[0] else { return [] }
    let reader = PartitionReader(partition: p)
    var out: [String] = []
    var offset: Int64 = 0
    while true {
      let r = try reader.read(from: offset)
      if r.isEmpty { break }
      r.forEachRecord { out.append(String(decoding: $0.value!, as: UTF8.self)) }
      offset = r.nextOffset
    }
    return out
  }

  func openStore(_ dir: TempDir) throws -> LogStore {
    let store = try LogStore.open(directory: dir.path)
    try store.createTopic("telemetry", config: TopicConfig(fsync: .never, maxAgeMs: nil))
    return store
  }

  /// Runs a service until it has read everything in the log, then stops it.
  func runToEnd(_ store: LogStore, checkpointEveryMs: Int = 100) async throws {
    let engine = try RuleEngine(source: Self.rules, fileName: "test.sql", clock: ContinuousClock())
    let service = RuleService(
      store: store, engine: engine, options: .init(topics: ["telemetry"], checkpointEveryMs: checkpointEveryMs))
    let task = Task { try await service.run() }
    let end = store.topic("telemetry")!.partitions[0].highWatermark
    let deadline = Date().addingTimeInterval(20)
    while Date() < deadline {
      try await Task.sleep(nanoseconds: 50_000_000)
      if let saved = try store.metadata.loadCheckpoint("rules"), saved.count > 8, engineCaughtUp(store, end) { break }
    }
    try await Task.sleep(nanoseconds: 300_000_000)
    service.stop()
    try await task.value
  }

  func engineCaughtUp(_ store: LogStore, _ end: Int64) -> Bool {
    guard let saved = try? store.metadata.loadCheckpoint("rules") else { return false }
    let probe = RuleEngine(clock: ContinuousClock())
    _ = probe.reload(source: Self.rules, fileName: "test.sql")
    guard (try? probe.restore(from: Array(saved.dropFirst(8)))) != nil else { return false }
    return (probe.lastOffset(topic: "telemetry", partition: 0) ?? -1) >= end - 1
  }

  @Test func alertsAfterARestartFromAnOldCheckpointEqualAnUninterruptedRun() async throws {
    let all = Self.readings(0..<3600)

    let straightDir = TempDir()
    let straight = try openStore(straightDir)
    try append(straight, all)
    try await runToEnd(straight)
    let expected = try alerts(straight)
    try straight.close()
    #expect(expected.count == 2, "\(expected)")
    #expect(expected.first?.contains("\"state\":\"raised\"") == true)
    #expect(expected.allSatisfy { $0.contains("motor-1") })

    let dir = TempDir()
    let store = try openStore(dir)
    try append(store, Array(all[0..<(all.count / 2)]))
    try await runToEnd(store)
    let early = try #require(try store.metadata.loadCheckpoint("rules"))
    try append(store, Array(all[(all.count / 2)...]))
    try await runToEnd(store)
    // A crash right after the early checkpoint: everything after it is replayed, and alerts
    // written meanwhile must not be written twice.
    try store.metadata.saveCheckpoint("rules", early, now: 0)
    try await runToEnd(store)
    #expect(try alerts(store) == expected)
    try store.close()
  }
}
