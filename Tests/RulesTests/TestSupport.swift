import Rules

/// A clock that moves only when a test moves it.
final class ManualClock: Clock, @unchecked Sendable {
  struct Instant: InstantProtocol {
    var offset: Duration
    func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
    func duration(to other: Instant) -> Duration { other.offset - offset }
    static func < (a: Instant, b: Instant) -> Bool { a.offset < b.offset }
  }

  private(set) var now = Instant(offset: .zero)
  var minimumResolution: Duration { .milliseconds(1) }

  func advance(by duration: Duration) { now = now.advanced(by: duration) }

  func sleep(until deadline: Instant, tolerance: Duration?) async throws {}
}

/// Feeds JSON payloads to an engine the way the log consumer will, with increasing offsets per partition.
final class Feeder {
  let engine: RuleEngine
  let clock: ManualClock
  var offsets: [String: Int64] = [:]
  var alerts: [AlertEvent] = []
  var late: [LateRecord] = []

  init(_ rules: String, clock: ManualClock = ManualClock()) throws {
    self.clock = clock
    engine = try RuleEngine(source: rules, fileName: "test.sql", clock: clock)
  }

  init(engine: RuleEngine, clock: ManualClock) {
    self.engine = engine
    self.clock = clock
  }

  /// Sends one record; returns the alerts it produced.
  @discardableResult
  func send(
    _ payload: String, at timestamp: Int64, key: String? = nil, partition: Int32 = 0, topic: String = "telemetry",
    offset: Int64? = nil
  ) -> [AlertEvent] {
    let slot = "\(topic)/\(partition)"
    let next = offset ?? ((offsets[slot] ?? -1) + 1)
    offsets[slot] = max(offsets[slot] ?? -1, next)
    var output = RuleOutput()
    let value = Array(payload.utf8)
    let keyBytes = key.map { Array($0.utf8) }
    value.withUnsafeBytes { v in
      if let keyBytes {
        keyBytes.withUnsafeBytes { k in
          engine.process(
            RuleInputRecord(partition: partition, offset: next, timestamp: timestamp, key: k, value: v), topic: topic,
            into: &output)
        }
      } else {
        engine.process(
          RuleInputRecord(partition: partition, offset: next, timestamp: timestamp, key: nil, value: v), topic: topic,
          into: &output)
      }
    }
    alerts += output.alerts
    late += output.lateRecords
    return output.alerts
  }

  /// Runs the idle-timeout check at the clock's current time.
  @discardableResult
  func tick() -> [AlertEvent] {
    var output = RuleOutput()
    engine.tick(into: &output)
    alerts += output.alerts
    return output.alerts
  }

  @discardableResult
  func closeAll() -> [AlertEvent] {
    var output = RuleOutput()
    engine.closeAllWindows(into: &output)
    alerts += output.alerts
    return output.alerts
  }
}

/// Deterministic random numbers for tests (SplitMix64).
struct SeededRandom: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

let minute: Int64 = 60_000
let t0: Int64 = 1_700_000_040_000 - 1_700_000_040_000 % 3_600_000  // an hour boundary
