import Foundation
import Testing
import WeirTestSupport

#if canImport(Glibc)
  import Glibc
#endif

/// `weir run` with its own MQTT listener, killed with SIGKILL at random moments while a paho-mqtt
/// device publishes at QoS 1: after the last restart, every sequence number the listener PUBACKed
/// is in the log (a PUBACK means the record was durable before it left).
@Suite(.serialized) struct ListenerCrashTests {
  /// A fault harness whose daemon has the listener (returned: its port) and `telemetry` on
  /// `fsync` (`interval`: every 50 ms).
  static func harness(fsync: String) throws -> (FaultHarness, port: Int) {
    let h = try FaultHarness()
    let port = MosquittoBroker.freePort()
    try h.configure(
      topics:
        "telemetry: {partitions: 3, fsync: \(fsync)\(fsync == "interval" ? ", fsync_interval: 50ms" : ""), max_age: forever}",
      rest: listenerConfig(port: port))
    return (h, port)
  }

  static func listenerConfig(port: Int) -> String {
    """
    listeners:
      - name: devices
        listen: 127.0.0.1:\(port)
        anonymous: true
        routes:
          - {filter: "sensors/+/telemetry", topic: telemetry, key: "{1}", format: json, time_field: ts}
    """
  }

  @Test(arguments: ["interval", "always"])
  func killNineLosesNoAcknowledgedMessage(_ fsync: String) async throws {
    let (h, port) = try Self.harness(fsync: fsync)
    try await h.start()
    // 20 kills under `interval`, the policy whose PUBACKs wait for a flush; 10 under `always`.
    // Paced so that the device is still publishing at the last kill.
    let kills = fsync == "interval" ? 20 : 10
    let total = kills * 1_500
    let publisher = try h.publish((0..<total).map { .reading($0) }, window: 200, ratePerSecond: 1_000, port: port)
    let whilePublishing = try await Self.killAtRandomMoments(h, publisher: publisher, kills: kills)
    let started = Date()
    try await publisher.finish(timeout: 240)
    print(
      "listener crash test (\(fsync)): \(total) messages, \(kills) kills (\(whilePublishing) while publishing), \(Int(Date().timeIntervalSince(started)))s after the last restart"
    )
    _ = await h.stop()
    #expect(whilePublishing == kills, "every kill came while the device was publishing")
    let acked = publisher.acked
    #expect(acked.count == total, "the device finished with every message acknowledged")
    let lost = acked.subtracting(try h.sequences())
    #expect(
      lost.isEmpty,
      "\(lost.count) acknowledged messages are not in the log: \(lost.sorted().prefix(10))\n\(h.allOutput.suffix(3000))"
    )
  }

  /// QoS 2 from a persistent session through 10 kills: paho sends again (DUP) what had no PUBREC
  /// and the PUBREL of what had no PUBCOMP; the log holds every message exactly once (the
  /// listener reads the QoS 2 packet identifiers back from the log and its saved sessions).
  @Test func killNineWritesNoQoS2MessageTwice() async throws {
    let (h, port) = try Self.harness(fsync: "interval")
    try await h.start()
    let total = 8_000
    let publisher = try h.publish(
      (0..<total).map { .reading($0) }, window: 100, ratePerSecond: 600, port: port, qos: 2, persistent: true)
    let whilePublishing = try await Self.killAtRandomMoments(h, publisher: publisher, kills: 10)
    try await publisher.finish(timeout: 240)
    _ = await h.stop()
    let sequences = try h.sequences()
    var seen = [Int: Int]()
    for s in sequences { seen[s, default: 0] += 1 }
    let twice = seen.filter { $0.value > 1 }.keys.sorted()
    print(
      "listener QoS 2 crash test: \(total) messages, 10 kills (\(whilePublishing) while publishing), \(sequences.count) records, \(twice.count) written twice"
    )
    #expect(whilePublishing == 10, "every kill came while the device was publishing")
    #expect(publisher.acked.count == total, "the device finished with every message completed")
    #expect(Set(sequences) == Set(0..<total), "every message is in the log")
    #expect(
      twice.isEmpty,
      "\(twice.count) messages are in the log twice: \(twice.prefix(10))\n\(h.allOutput.split(separator: "\n").filter { $0.contains("listener") }.suffix(40).joined(separator: "\n"))"
    )
  }

  /// Kills `weir run` with SIGKILL `kills` times, 300 to 1,200 ms apart, restarting it each time;
  /// returns how many kills came while the publisher was still running.
  static func killAtRandomMoments(_ h: FaultHarness, publisher: FaultHarness.Publisher, kills: Int) async throws
    -> Int
  {
    var random = SystemRandomNumberGenerator()
    var whilePublishing = 0
    for _ in 0..<kills {
      try await Task.sleep(for: .milliseconds(Int.random(in: 300...1200, using: &random)))
      if publisher.process.isRunning { whilePublishing += 1 }
      await h.kill9()
      try await h.start()
    }
    return whilePublishing
  }
}
