import Foundation
import Testing
import WeirTestSupport

#if canImport(Glibc)
  import Glibc
#endif

/// The fault suite, ingest half: what a device can send, and a gateway killed or stopped at the
/// wrong moment. Each test checks both halves of the promise: the daemon is still serving, and
/// every reading the broker acknowledged to a device is in the log.
@Suite(.serialized) struct FaultIngestTests {
  /// Poison next to good readings, several in one read pass: each poison message becomes one dead
  /// letter with its reason; no trap, no retry loop, and every good reading lands once.
  @Test func poisonPayloadsBecomeDeadLettersAndTheGatewayKeepsServing() async throws {
    let h = try FaultHarness()
    try h.configure()
    try await h.start()
    let poison: [(payload: [UInt8], reason: String)] = [
      (Array(#"{"device":"p","ts": -99999999999999999999}"#.utf8), "bad_timestamp"),
      (Array(#"{"device":"p","ts": 1e308}"#.utf8), "bad_timestamp"),
      (Array(#"{"device":"p","ts": 1e19}"#.utf8), "bad_timestamp"),
      (Array(#"{"device":"p","ts": -9223372036854774784}"#.utf8), "bad_timestamp"),
      (Array(#"{"device":"p","ts": 0}"#.utf8), "bad_timestamp"),
      (Array(#"{"device":"p","ts": "2026-13-45T99:00:00Z"}"#.utf8), "bad_timestamp"),
      (Array(#"{"device":"p","ts": 1700000000000"#.utf8), "invalid_json"),
      (Array(String(repeating: "[", count: 100_000).utf8), "invalid_json"),
      ([0xff, 0xfe, 0x7b, 0x00, 0xc3], "invalid_json"),
      (Array(#"{"device":"p"}"#.utf8), "missing_timestamp"),
    ]
    var messages: [FaultHarness.Message] = []
    var seq = 0
    for round in 0..<3 {
      for p in poison {
        messages.append(.reading(seq, device: "dev-\(round)"))
        seq += 1
        messages.append(.raw(p.payload, device: "dev-\(round)"))
      }
    }
    for _ in 0..<50 {
      messages.append(.reading(seq))
      seq += 1
    }
    let publisher = try h.publish(messages)
    try await publisher.finish()
    let good = seq
    let ingested = await eventually(timeout: 30) {
      let records = await h.metric("weir_ingest_records_total", ["topic=\"telemetry\""])
      let dead = await h.metric("weir_ingest_deadletter_records_total")
      return records >= Double(good) && dead >= Double(poison.count * 3)
    }
    #expect(ingested, "\(h.output)")
    #expect(h.isRunning)
    #expect(await h.readyz().status == 200)
    for reason in Set(poison.map(\.reason)) {
      let expected = Double(poison.filter { $0.reason == reason }.count * 3)
      let counted = await h.metric("weir_ingest_deadletter_records_total", ["reason=\"\(reason)\""])
      #expect(counted == expected, "\(reason)")
    }
    #expect(await h.metric("weir_mqtt_connects_total") == 1, "a poison message made the source reconnect")
    #expect(await h.stop() == 0)

    let sequences = try h.sequences()
    #expect(sequences.sorted() == Array(0..<good), "every good reading once")
    let dead = try h.records("deadletter")
    #expect(dead.count == poison.count * 3)
    for p in poison {
      #expect(
        dead.filter { $0.value == p.payload }.count == 3, "\(String(decoding: p.payload.prefix(40), as: UTF8.self))")
    }
    for d in dead {
      let reason = d.headers["weir.error"] ?? ""
      #expect(poison.contains { reason.hasPrefix($0.reason) && $0.payload == d.value }, "\(reason)")
    }
  }

  /// A 20 MiB message (the broker sets no size limit) between good ones: one dead letter with a
  /// 4 KiB prefix, the size and a CRC; the good readings of that pass land once, with no
  /// reconnect and no redelivery.
  @Test func aTwentyMegabyteMessageIsDeadLetteredOnceWithAPrefix() async throws {
    let h = try FaultHarness()
    try h.configure()
    try await h.start()
    var messages = (0..<50).map { FaultHarness.Message.reading($0) }
    let bigPadding = 20 << 20
    messages.append(FaultHarness.Message(topic: "sensors/big/telemetry", big: bigPadding))
    messages += (50..<100).map { FaultHarness.Message.reading($0) }
    let publisher = try h.publish(messages)
    try await publisher.finish()
    let ingested = await eventually(timeout: 30) {
      let records = await h.metric("weir_ingest_records_total", ["topic=\"telemetry\""])
      let dead = await h.metric("weir_ingest_deadletter_records_total", ["reason=\"oversize\""])
      return records >= 100 && dead >= 1
    }
    #expect(ingested, "\(h.output)")
    try await Task.sleep(for: .seconds(3))  // a redelivery loop would show by now
    #expect(await h.metric("weir_ingest_deadletter_records_total", ["reason=\"oversize\""]) == 1)
    #expect(await h.metric("weir_mqtt_connects_total") == 1)
    #expect(await h.readyz().status == 200)
    #expect(await h.stop() == 0)

    #expect(try h.sequences().sorted() == Array(0..<100), "each good reading once")
    let dead = try h.records("deadletter")
    try #require(dead.count == 1)
    let size = bigPadding + #"{"device":"big","pad":""}"#.utf8.count
    #expect(dead[0].value.count == 4096)
    #expect(dead[0].headers["weir.payload_bytes"] == "\(size)")
    #expect(dead[0].headers["weir.payload_crc32c"]?.isEmpty == false)
    #expect(dead[0].headers["weir.error"]?.hasPrefix("oversize: \(size) bytes") == true)
  }

  /// 300 messages of 200 KB queued in the broker while the gateway was down: read passes are
  /// bounded in bytes, so they come in without a reconnect.
  @Test func aBacklogOfLargeMessagesComesInWithoutReconnects() async throws {
    let h = try FaultHarness()
    try h.configure()
    try await h.start()
    #expect(await h.stop() == 0)  // the broker keeps the persistent session
    let publisher = try h.publish((0..<300).map { FaultHarness.Message.reading($0, pad: 200_000) }, window: 20)
    try await publisher.finish()
    try await h.start()
    let ingested = await eventually(timeout: 30) {
      await h.metric("weir_ingest_records_total", ["topic=\"telemetry\""]) >= 300
    }
    #expect(ingested, "\(h.output)")
    #expect(await h.metric("weir_mqtt_connects_total") == 1, "\(h.output)")
    #expect(await h.stop() == 0)
    #expect(try h.sequences().sorted() == Array(0..<300))
  }

  /// SIGTERM while the log refuses appends (`reject_new` at the disk budget): the drain
  /// acknowledges exactly what was committed, so what it could not write stays with the broker
  /// and arrives after a restart with room.
  @Test func sigtermWhileBackPressuredAcknowledgesOnlyWhatIsInTheLog() async throws {
    let h = try FaultHarness()
    let topics =
      "telemetry: {partitions: 1, fsync: interval, fsync_interval: 20ms, max_age: forever, on_full: reject_new}"
    try h.configure(topics: topics, log: "min_free: 0\n  disk_budget: 2MiB")
    try await h.start()
    let publisher = try h.publish((0..<600).map { FaultHarness.Message.reading($0, pad: 8000) })
    let pressed = await eventually(timeout: 30) { await h.metric("weir_mqtt_back_pressured") == 1 }
    #expect(pressed, "\(h.output)")
    #expect(await h.readyz().status == 503)
    try await publisher.finish()
    #expect(await h.stop() == 0, "\(h.output)")
    #expect(h.output.contains("not acknowledged"), "the drain left a pass unacknowledged")
    // What the first run committed stays acknowledged; the broker delivers the rest.
    let committed = Set(try h.sequences())

    try h.configure(topics: topics, log: "min_free: 0\n  disk_budget: 1GiB")
    try await h.start()
    let all = await eventually(timeout: 60) {
      await h.metric("weir_ingest_records_total", ["topic=\"telemetry\""]) >= Double(600 - committed.count)
    }
    #expect(all, "first run committed \(committed.count): \(h.output)")
    #expect(await h.stop() == 0)
    #expect(Set(try h.sequences()) == Set(0..<600), "every acknowledged reading is in the log")
  }

  /// `kill -9` of the gateway at random moments under load, five times: after the last restart
  /// every reading the devices published is in the log (at least once).
  @Test func killNineUnderLoadLosesNothing() async throws {
    let h = try FaultHarness()
    try h.configure()
    try await h.start()
    let total = 20_000
    let publisher = try h.publish(
      (0..<total).map { FaultHarness.Message.reading($0, device: "dev-\($0 % 7)") }, ratePerSecond: 2500)
    var generator = SystemRandomNumberGenerator()
    for _ in 0..<5 {
      try await Task.sleep(for: .milliseconds(Int.random(in: 300...1500, using: &generator)))
      await h.kill9()
      try await h.start()
    }
    try await publisher.finish(timeout: 180)
    #expect(publisher.acked.count == total)
    // Let the last run take in everything the broker still holds.
    await h.waitUntilQuiet("weir_ingest_records_total")
    #expect(await h.stop() == 0)
    let present = Set(try h.sequences())
    let missing = publisher.acked.subtracting(present)
    #expect(missing.isEmpty, "\(missing.count) acknowledged readings missing, e.g. \(missing.sorted().prefix(10))")
  }
}
