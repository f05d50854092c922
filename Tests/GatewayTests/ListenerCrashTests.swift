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
    let h = try FaultHarness()
    let port = MosquittoBroker.freePort()
    try h.configure(
      topics:
        "telemetry: {partitions: 3, fsync: \(fsync)\(fsync == "interval" ? ", fsync_interval: 50ms" : ""), max_age: forever}",
      rest: Self.listenerConfig(port: port))
    try await h.start()
    let total = 15_000
    let publisher = try h.publish((0..<total).map { .reading($0) }, window: 200, port: port)
    var random = SystemRandomNumberGenerator()
    for _ in 0..<6 {
      try await Task.sleep(for: .milliseconds(Int.random(in: 300...1200, using: &random)))
      await h.kill9()
      try await h.start()
    }
    let started = Date()
    try await publisher.finish(timeout: 240)
    print(
      "listener crash test (\(fsync)): \(total) messages, 6 kills, \(Int(Date().timeIntervalSince(started)))s after the last restart"
    )
    _ = await h.stop()
    let acked = publisher.acked
    #expect(acked.count == total, "the device finished with every message acknowledged")
    var inLog = Set<Int>()
    for r in try h.records("telemetry") {
      let json = try JSONSerialization.jsonObject(with: Data(r.value)) as! [String: Any]
      inLog.insert(json["seq"] as! Int)
    }
    let lost = acked.subtracting(inLog)
    #expect(
      lost.isEmpty,
      "\(lost.count) acknowledged messages are not in the log: \(lost.sorted().prefix(10))\n\(h.allOutput.suffix(3000))"
    )
  }
}
