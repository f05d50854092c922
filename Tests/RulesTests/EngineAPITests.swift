import Payload
import Testing

@testable import Rules

/// `rewind(topic:partition:lastProcessed:)` and `changeCount`, the two calls the rule service builds recovery and
/// idle-quiet checkpointing on.
@Suite struct EngineAPITests {
  static let rules = """
    CREATE RULE hot AS SELECT max(t) AS m, count(*) AS n FROM telemetry GROUP BY device, TUMBLING(1m) HAVING m > 80
      RAISE ALERT 'critical' WITH (idle_timeout = 5m);
    """

  @Test func rewoundOffsetsAreProcessedAgainNotSkipped() throws {
    let feed = try Feeder(EngineAPITests.rules)
    for i in 0..<10 { feed.send(#"{"device":"d","t":50}"#, at: t0 + Int64(i) * 1000, offset: Int64(i)) }
    #expect(feed.engine.lastOffset(topic: "telemetry", partition: 0) == 9)
    // Recovery truncated the log after offset 4 and hands 5... out again, for other records.
    feed.engine.rewind(topic: "telemetry", partition: 0, lastProcessed: 4)
    #expect(feed.engine.lastOffset(topic: "telemetry", partition: 0) == 4)
    for i in 5..<10 { feed.send(#"{"device":"d","t":90}"#, at: t0 + 10_000 + Int64(i) * 1000, offset: Int64(i)) }
    #expect(feed.engine.statistics.duplicatesSkipped == 0)
    feed.send(#"{"device":"d","t":90}"#, at: t0 + 9000, offset: 9)
    #expect(feed.engine.statistics.duplicatesSkipped == 1, "offsets at or below the rewound position are skipped")
    feed.closeAll()
    #expect(feed.alerts.map(\.state) == [.raised], "the records written again after the rewind were evaluated")
    #expect(feed.alerts.first?["n"] == .number(15))
  }

  @Test func rewindToNothingAndToUnseenPartitions() throws {
    let feed = try Feeder(EngineAPITests.rules)
    feed.send(#"{"device":"d","t":1}"#, at: t0, partition: 2, offset: 7)
    feed.engine.rewind(topic: "telemetry", partition: 2, lastProcessed: -1)
    #expect(feed.engine.lastOffset(topic: "telemetry", partition: 2) == nil)
    feed.engine.rewind(topic: "telemetry", partition: 2, lastProcessed: -99)
    #expect(feed.engine.lastOffset(topic: "telemetry", partition: 2) == nil)
    feed.engine.rewind(topic: "other", partition: 5, lastProcessed: 3)
    #expect(feed.engine.lastOffset(topic: "other", partition: 5) == 3)
    let before = feed.engine.checkpoint()
    for bad in [Int32(-1), Int32.min, RuleLimits.maximumPartitions, Int32.max] {
      feed.engine.rewind(topic: "telemetry", partition: bad, lastProcessed: 100)
    }
    #expect(feed.engine.checkpoint() == before, "impossible partitions are ignored")
    // The rewound position is what a checkpoint saves and a restore brings back.
    let restored = try RuleEngine(source: EngineAPITests.rules, fileName: "r.sql", clock: ManualClock())
    try restored.restore(from: before)
    #expect(restored.lastOffset(topic: "other", partition: 5) == 3)
    #expect(restored.lastOffset(topic: "telemetry", partition: 2) == nil)
  }

  /// One step of the service's life and whether it changes what a checkpoint would save.
  struct Step: CustomTestStringConvertible, Sendable {
    var name: String
    var moves: Bool
    var run: @Sendable (Feeder) throws -> Void
    var testDescription: String { name }
  }

  static let steps: [Step] = [
    Step(name: "a new record", moves: true) { $0.send(#"{"device":"e","t":1}"#, at: t0 + 30_000) },
    Step(name: "a record of a topic no rule reads", moves: true) { $0.send("{}", at: t0, topic: "elsewhere") },
    Step(name: "a duplicate record", moves: false) { $0.send(#"{"device":"e","t":1}"#, at: t0, offset: 0) },
    Step(name: "a record of an impossible partition", moves: false) { $0.send("{}", at: t0, partition: -3) },
    Step(name: "an idle tick", moves: false) { $0.tick() },
    Step(name: "a tick after the idle timeout", moves: true) { feed in
      feed.clock.advance(by: .seconds(600))
      feed.tick()
    },
    Step(name: "closing every window", moves: true) { $0.closeAll() },
    Step(name: "a checkpoint and statistics", moves: false) { feed in
      _ = feed.engine.checkpoint()
      _ = feed.engine.statistics
    },
    Step(name: "a reload of the same text", moves: false) { feed in
      feed.engine.reload(source: EngineAPITests.rules + "\n-- a comment", fileName: "r.sql")
    },
    Step(name: "a reload that changes a rule", moves: true) { feed in
      feed.engine.reload(source: EngineAPITests.rules.replacingAll("m > 80", "m > 81"), fileName: "r.sql")
    },
    Step(name: "a reload that is refused", moves: false) {
      $0.engine.reload(source: "CREATE RULE hot AS", fileName: "r.sql")
    },
    Step(name: "a restore", moves: true) { feed in try feed.engine.restore(from: feed.engine.checkpoint()) },
    Step(name: "a failed restore", moves: false) { feed in
      _ = try? feed.engine.restore(from: Array(feed.engine.checkpoint().dropLast()))
    },
    Step(name: "a rewind", moves: true) { $0.engine.rewind(topic: "telemetry", partition: 0, lastProcessed: -1) },
    Step(name: "a rewind to where it is", moves: false) {
      $0.engine.rewind(topic: "telemetry", partition: 0, lastProcessed: 0)
    },
    Step(name: "naming a known topic", moves: false) { _ = $0.engine.topic("telemetry") },
    Step(name: "naming a new topic", moves: true) { _ = $0.engine.topic("new-topic") },
  ]

  @Test(arguments: steps)
  func changeCountMovesOnlyWithCheckpointedState(_ step: Step) throws {
    let feed = try Feeder(EngineAPITests.rules)
    feed.send(#"{"device":"d","t":99}"#, at: t0)
    feed.clock.advance(by: .seconds(1))
    let count = feed.engine.changeCount
    let bytes = feed.engine.checkpoint()
    try step.run(feed)
    #expect((feed.engine.changeCount != count) == step.moves)
    if !step.moves {
      #expect(feed.engine.checkpoint() == bytes, "state changed but changeCount did not move")
    }
  }

  @Test func anIdleEngineStaysStill() throws {
    let feed = try Feeder(EngineAPITests.rules)
    feed.send(#"{"device":"d","t":99}"#, at: t0)
    feed.clock.advance(by: .seconds(400))
    feed.tick()
    let count = feed.engine.changeCount
    for _ in 0..<100 {
      feed.clock.advance(by: .seconds(60))
      feed.tick()
    }
    #expect(feed.engine.changeCount == count)
  }
}
