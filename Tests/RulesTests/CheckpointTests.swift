import Payload
import Testing

@testable import Rules

@Suite struct CheckpointTests {
  /// One rule per window type, all on one topic, with keys spread over partitions.
  static let rules = """
    CREATE RULE wear AS SELECT device, rms(vibration) AS r, slope(vibration) AS s, percentile(vibration, 0.5) AS p,
      ewma(vibration, 0.2) AS e, first(kind) AS k
    FROM telemetry WHERE kind = 'motor'
    GROUP BY device, HOPPING(10m, 1m) HAVING r > 5 OR time_to_threshold(vibration, 9) < 30m
    RAISE ALERT 'warning' CLEAR AFTER 2 WINDOWS WITH (lateness = 20s);
    CREATE RULE hot AS SELECT max(temperature) AS t FROM telemetry GROUP BY device, TUMBLING(1m) HAVING t > 80
      RAISE ALERT 'critical';
    CREATE RULE spikes AS SELECT max(vibration) - min(vibration) AS p2p FROM telemetry GROUP BY device, SLIDING(30s)
      HAVING p2p > 6 RAISE ALERT 'info';
    CREATE RULE bursts AS SELECT count(*) AS n FROM telemetry GROUP BY device, SESSION(20s) HAVING n > 30
      RAISE ALERT 'info';
    CREATE RULE batches AS SELECT avg(temperature) AS a FROM telemetry GROUP BY device, COUNT(50) HAVING a > 60
      RAISE ALERT 'info'
    """

  struct Input {
    var partition: Int32
    var offset: Int64
    var timestamp: Int64
    var key: String
    var payload: String
  }

  static func inputs(seed: UInt64) -> [Input] {
    var random = SeededRandom(seed: seed)
    var offsets: [Int64] = [0, 0, 0]
    var out: [Input] = []
    for i in 0..<6000 {
      let device = Int.random(in: 0..<6, using: &random)
      let partition = Int32(device % 3)
      // Mostly in order, some jitter (a few records are late), and a quiet stretch to end sessions.
      var time = t0 + Int64(i) * 500 + Int64.random(in: -30_000...2_000, using: &random)
      if i > 3000 && i < 3200 && device == 2 { time -= 600_000 }
      let vibration = Double(device) + Double(i % 400) / 60 + Double.random(in: -1...1, using: &random)
      let temperature = 50 + Double(device) * 7 + Double.random(in: -3...3, using: &random)
      let kind = device == 5 ? "pump" : "motor"
      out.append(
        Input(
          partition: partition, offset: offsets[Int(partition)], timestamp: time, key: "dev-\(device)",
          payload:
            #"{"device":"dev-\#(device)","kind":"\#(kind)","vibration":\#(vibration),"temperature":\#(temperature)}"#))
      offsets[Int(partition)] += 1
    }
    return out
  }

  static func run(_ engine: RuleEngine, _ inputs: ArraySlice<Input>, clock: ManualClock) -> [AlertEvent] {
    var output = RuleOutput()
    let topic = engine.topic("telemetry")
    for input in inputs {
      clock.advance(by: .milliseconds(500))
      Array(input.payload.utf8).withUnsafeBytes { value in
        Array(input.key.utf8).withUnsafeBytes { key in
          engine.process(
            RuleInputRecord(
              partition: input.partition, offset: input.offset, timestamp: input.timestamp, key: key, value: value),
            topic: topic, into: &output)
        }
      }
    }
    return output.alerts
  }

  @Test(arguments: [1, 2] as [UInt64])
  func restartFromCheckpointEqualsUninterruptedRun(_ seed: UInt64) throws {
    let inputs = CheckpointTests.inputs(seed: seed)
    let clockA = ManualClock()
    let uninterrupted = try RuleEngine(source: CheckpointTests.rules, fileName: "r.sql", clock: clockA)
    let expected = CheckpointTests.run(uninterrupted, inputs[...], clock: clockA)
    #expect(expected.count > 20)
    #expect(Set(expected.map(\.rule)) == ["wear", "hot", "spikes", "bursts", "batches"])

    for cut in [1, 2345, 4000] {
      let clockB = ManualClock()
      let first = try RuleEngine(source: CheckpointTests.rules, fileName: "r.sql", clock: clockB)
      var alerts = CheckpointTests.run(first, inputs[..<cut], clock: clockB)
      let bytes = first.checkpoint()
      #expect(bytes == first.checkpoint(), "a checkpoint must be deterministic")

      let clockC = ManualClock()
      let restarted = try RuleEngine(source: CheckpointTests.rules, fileName: "r.sql", clock: clockC)
      try restarted.restore(from: bytes)
      #expect(restarted.checkpoint() == bytes)
      // Replay the whole log: everything up to the checkpoint is skipped by offset.
      alerts += CheckpointTests.run(restarted, inputs[...], clock: clockC)
      #expect(restarted.statistics.duplicatesSkipped == Int64(cut))
      #expect(alerts.map(\.json) == expected.map(\.json), "cut at \(cut)")
      #expect(alerts.map(\.mqttTopic) == expected.map(\.mqttTopic))
    }
  }

  @Test func corruptCheckpointsAreRejected() throws {
    let engine = try RuleEngine(source: CheckpointTests.rules, fileName: "r.sql", clock: ManualClock())
    _ = CheckpointTests.run(engine, CheckpointTests.inputs(seed: 3)[..<500], clock: ManualClock())
    let bytes = engine.checkpoint()
    let fresh = try RuleEngine(source: CheckpointTests.rules, fileName: "r.sql", clock: ManualClock())
    #expect(throws: CheckpointError.self) { try fresh.restore(from: Array(bytes.dropLast(3))) }
    #expect(throws: CheckpointError.self) { try fresh.restore(from: Array("not a checkpoint".utf8)) }
    #expect(throws: CheckpointError.self) { try fresh.restore(from: bytes + [0]) }
  }

  @Test func changedRulesStartEmptyOnRestore() throws {
    let engine = try RuleEngine(source: CheckpointTests.rules, fileName: "r.sql", clock: ManualClock())
    _ = CheckpointTests.run(engine, CheckpointTests.inputs(seed: 4)[..<500], clock: ManualClock())
    let changed = CheckpointTests.rules.replacingAll("HAVING t > 80", "HAVING t > 81")
    let other = try RuleEngine(source: changed, fileName: "r.sql", clock: ManualClock())
    try other.restore(from: engine.checkpoint())
    let stats = other.statistics.rules
    #expect(stats.first { $0.rule == "hot" }?.keys == 0)
    #expect(stats.first { $0.rule == "wear" }?.keys == 5)
    #expect(other.lastOffset(topic: "telemetry", partition: 0) == engine.lastOffset(topic: "telemetry", partition: 0))
  }
}
