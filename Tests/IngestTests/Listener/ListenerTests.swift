import Foundation
import PartitionedLog
import Testing
import WeirTestSupport

@testable import Ingest

/// The listener with real paho-mqtt devices: every acknowledged message is in the log exactly once,
/// in each device's order, over MQTT 3.1.1 and 5.0, at QoS 0, 1 and 2.
@Suite(.serialized) struct ListenerTests {
  /// Checks that every acked (device, seq) is in `telemetry` once, and each device's in order.
  static func checkExactlyOnceInOrder(_ h: ListenerHarness, acked: [String]) throws {
    var seen: [String: Int] = [:]
    var last: [String: Int] = [:]
    var outOfOrder = 0
    for r in try h.records("telemetry") {
      let json = try JSONSerialization.jsonObject(with: Data(r.value.utf8)) as! [String: Any]
      let device = json["device"] as! String
      let seq = json["seq"] as! Int
      seen["\(device) \(seq)", default: 0] += 1
      if let l = last[device], seq <= l { outOfOrder += 1 }
      last[device] = seq
      #expect(r.key == device, "keyed by the topic's second level")
      #expect(r.headers["mqtt.topic"] == "sensors/\(device)/telemetry")
    }
    let missing = acked.filter { seen[$0] == nil }
    #expect(missing.isEmpty, "\(missing.count) acknowledged messages are not in the log, e.g. \(missing.prefix(3))")
    let twice = seen.filter { $0.value > 1 }
    #expect(twice.isEmpty, "\(twice.count) messages are in the log more than once")
    #expect(outOfOrder == 0, "\(outOfOrder) records out of their device's order")
  }

  @Test(arguments: [("3.1.1", 1), ("5", 1), ("3.1.1", 2), ("5", 2), ("5", 0)])
  func everyAcknowledgedMessageIsInTheLogOnce(_ version: String, _ qos: Int) async throws {
    let h = try ListenerHarness()
    let port = try await h.start()
    let devices = try h.devices(port: port, clients: 4, count: 1000, qos: qos, version: version)
    try await devices.finish()
    try await h.stop()
    let acked = devices.acked
    #expect(acked.count == 4 * 1000)
    if qos == 0 {
      // QoS 0 is never acknowledged; on loopback with nothing full, all of it arrives.
      #expect(try h.records("telemetry").count == 4000)
    } else {
      try Self.checkExactlyOnceInOrder(h, acked: acked)
    }
    let events = try h.records("device-events")
    #expect(events.filter { $0.value.contains("\"event\":\"connected\"") }.count == 4)
    #expect(events.filter { $0.value.contains("\"event\":\"disconnected\"") }.count == 4)
  }

  /// The load: 100,000 QoS 1 messages from 20 paho-mqtt clients (two processes of ten),
  /// into a 6-partition log; every acknowledged message is in the log once, in its client's order.
  @Test func aHundredThousandMessagesFromTwentyClients() async throws {
    let h = try ListenerHarness(partitions: 6)
    let port = try await h.start()
    let a = try h.devices(port: port, clients: 10, count: 5000, qos: 1, version: "3.1.1")
    let b = try h.devices(port: port, clients: 10, count: 5000, qos: 1, version: "5")
    try await a.finish(timeout: 300)
    try await b.finish(timeout: 300)
    try await h.stop()
    let acked = a.acked + b.acked
    #expect(acked.count == 100_000)
    #expect(try h.records("telemetry").count == 100_000)
    try Self.checkExactlyOnceInOrder(h, acked: acked)
  }

  /// Under `fsync: always` and under `interval`, a PUBACK leaves only once the high watermark covers
  /// its record: after the test's devices finish, the log's durable end already holds all of them.
  @Test(arguments: [FsyncPolicy.always, .interval(milliseconds: 200, bytes: 64 << 20)])
  func acknowledgementsFollowTheDurableEnd(_ fsync: FsyncPolicy) async throws {
    let h = try ListenerHarness(fsync: fsync, partitions: 2)
    let port = try await h.start()
    let devices = try h.devices(port: port, clients: 2, count: 500, qos: 1, version: "5")
    try await devices.finish()
    // Before any flush the test could cause: what was acknowledged is below the high watermark.
    let durable = h.store.topic("telemetry")!.partitions.reduce(Int64(0)) { $0 + $1.highWatermark }
    #expect(durable >= Int64(devices.acked.count))
    try await h.stop()
    try Self.checkExactlyOnceInOrder(h, acked: devices.acked)
  }

  /// A `reject_new` topic at its size limit: the listener stops reading (the device is held back by
  /// TCP and gets no PUBACK meanwhile), and resumes when age retention makes room; every message
  /// the device had acknowledged was appended.
  @Test func aFullLogHoldsTheDevicesBackAndIngestResumes() async throws {
    let topic = TopicConfig(
      fsync: .interval(milliseconds: 20, bytes: 1 << 20), segmentBytes: 4096, maxBytes: 8192, maxAgeMs: 1500,
      onFull: .rejectNew)
    let h = try ListenerHarness(topic: topic)
    let port = try await h.start()
    let devices = try h.devices(port: port, clients: 1, count: 400, qos: 1, version: "5", window: 20)
    var heldBack = false
    let deadline = Date().addingTimeInterval(120)
    while devices.process.isRunning && Date() < deadline {
      if h.listener.status.backPressured { heldBack = true }
      try await Task.sleep(for: .milliseconds(20))
    }
    try await devices.finish(timeout: 10)
    #expect(heldBack, "the listener stopped reading while the log refused appends")
    #expect(devices.acked.count == 400, "ingest resumed once retention made room")
    let appended = h.store.topic("telemetry")!.partitions.reduce(Int64(0)) { $0 + $1.state.logEndOffset }
    #expect(appended >= 400, "every acknowledged message was appended (\(appended))")
    try await h.stop()
  }

  @Test func anonymousAccessOffRefusesTheConnection() async throws {
    let h = try ListenerHarness(anonymous: false)
    let port = try await h.start()
    let devices = try h.devices(port: port, clients: 1, count: 1, qos: 1, version: "5", user: "alice", password: "x")
    let status = await devices.process.waitForExit(timeout: 30)
    #expect(status == 3, "paho reports the refused connection: \(devices.process.output)")
    #expect(devices.process.output.contains("Not authorized") || devices.process.output.contains("Bad user name"))
    try await h.stop()
    #expect(try h.records("telemetry").isEmpty)
  }
}
