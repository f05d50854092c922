import Foundation
import MQTTWire
import Testing
import WeirCore
import WeirTestSupport

#if canImport(Glibc)
  import Glibc
#endif

/// The listener against another independent client (mosquitto_pub, both protocol versions) and
/// against bad bytes: a malformed packet closes that connection with its reason code, and the
/// others go on.
@Suite(.serialized) struct ListenerProtocolTests {
  @Test(arguments: ["mqttv311", "mqttv5"])
  func mosquittoPubIsAcknowledgedAndLogged(_ version: String) async throws {
    let h = try ListenerHarness()
    let port = try await h.start()
    let pub = try ChildProcess(
      "/usr/bin/mosquitto_pub",
      [
        "-h", "127.0.0.1", "-p", "\(port)", "-V", version, "-q", "1", "-i", "mp-\(version)", "-t",
        "sensors/mp-1/telemetry", "-m", #"{"device":"mp-1","seq":1,"ts":1700000000000}"#,
      ])
    #expect(await pub.waitForExit(timeout: 30) == 0, "mosquitto_pub: \(pub.output)")
    try await h.stop()
    let records = try h.records("telemetry")
    #expect(records.count == 1 && records.first?.key == "mp-1")
    #expect(records.first?.headers["mqtt.qos"] == "1")
  }

  /// paho-mqtt 5.0 with a will delayed 2 s and a 60 s session: the process dies without a
  /// DISCONNECT. The will is not written at once, and it is after the delay; a client that comes
  /// back within the delay (resuming its session) cancels it.
  @Test(arguments: [false, true])
  func theWillDelayHoldsTheWillBack(_ reconnect: Bool) async throws {
    let h = try ListenerHarness()
    let port = try await h.start()
    let script = h.directory + "/will.py"
    try #"""
    import os, sys, time
    import paho.mqtt.client as mqtt
    from paho.mqtt.properties import Properties
    from paho.mqtt.packettypes import PacketTypes
    port, mode = int(sys.argv[1]), sys.argv[2]
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="w1", protocol=mqtt.MQTTv5)
    if mode == "die":
        will = Properties(PacketTypes.WILLMESSAGE)
        will.WillDelayInterval = 2
        c.will_set("devices/w1/status", "offline", qos=1, properties=will)
    connect = Properties(PacketTypes.CONNECT)
    connect.SessionExpiryInterval = 60
    c.connect("127.0.0.1", port, clean_start=(mode == "die"), properties=connect)
    c.loop_start()
    time.sleep(0.5)
    if mode == "die":
        os._exit(0)
    c.disconnect()
    c.loop_stop()
    """#.write(toFile: script, atomically: true, encoding: .utf8)
    let dies = try ChildProcess("/usr/bin/env", ["python3", script, "\(port)", "die"])
    #expect(await dies.waitForExit(timeout: 30) == 0, "\(dies.output)")
    func wills() throws -> Int { try h.records("device-events").filter { $0.headers["event"] == "will" }.count }
    try await Task.sleep(for: .milliseconds(300))
    #expect(try wills() == 0, "not before the delay")
    if reconnect {
      let back = try ChildProcess("/usr/bin/env", ["python3", script, "\(port)", "back"])
      #expect(await back.waitForExit(timeout: 30) == 0, "\(back.output)")
    }
    try await Task.sleep(for: .milliseconds(2500))
    #expect(try wills() == (reconnect ? 0 : 1))
    try await h.stop()
  }

  /// A raw connection: CONNECT (5.0), then a PUBLISH with a wildcard in its topic name. The
  /// listener answers with DISCONNECT 0x90 and closes; a second client, connected meanwhile, still
  /// gets its PUBACK.
  @Test func aMalformedPacketClosesOnlyItsConnection() async throws {
    let h = try ListenerHarness()
    let port = try await h.start()
    let bad = try RawClient(port: port, id: "bad")
    let good = try RawClient(port: port, id: "good")
    bad.send { out in
      Array("sensors/+/telemetry".utf8).withUnsafeBytes { t in
        Array("{}".utf8).withUnsafeBytes { Encoder.publish(out, version: .v5, topic: t, payload: $0, qos: .atMostOnce) }
      }
    }
    let reply = bad.readAll(timeoutMs: 5000)
    #expect(
      reply.first == 0xE0 && reply.count >= 3 && reply[2] == ReasonCode.topicNameInvalid.rawValue,
      "DISCONNECT 0x90, got \(reply)")
    good.send { out in
      Array("sensors/g-1/telemetry".utf8).withUnsafeBytes { t in
        Array(#"{"device":"g-1","seq":1,"ts":1700000000000}"#.utf8).withUnsafeBytes {
          Encoder.publish(out, version: .v5, topic: t, payload: $0, qos: .atLeastOnce, packetIdentifier: 7)
        }
      }
    }
    let ack = good.read(count: 4, timeoutMs: 5000)
    #expect(ack == [0x40, 2, 0, 7], "PUBACK for packet 7, got \(ack)")
    bad.close()
    good.close()
    try await h.stop()
    #expect(try h.records("telemetry").count == 1)
  }
}

/// A bare MQTT 5.0 client on a blocking socket (tests).
final class RawClient {
  let fd: Int32
  let out = WeirCore.ByteBuffer(capacity: 1024)

  init(port: Int, id: String) throws {
    fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
    let rc = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard rc == 0 else { throw BrokerError("connect: errno \(errno)") }
    send { out in Array(id.utf8).withUnsafeBytes { Encoder.connect(out, version: .v5, clientIdentifier: $0) } }
    let connack = read(count: 2, timeoutMs: 5000)
    guard connack.first == 0x20, connack.count == 2 else { throw BrokerError("no CONNACK: \(connack)") }
    _ = read(count: Int(connack[1]), timeoutMs: 5000)
  }

  func send(_ body: (WeirCore.ByteBuffer) -> Void) {
    out.removeAll()
    body(out)
    _ = write(fd, out.bytes.baseAddress, out.count)
  }

  /// Up to `count` bytes, waiting at most `timeoutMs` in all.
  func read(count: Int, timeoutMs: Int) -> [UInt8] {
    var got: [UInt8] = []
    let deadline = Monotonic.milliseconds() + Int64(timeoutMs)
    while got.count < count && Monotonic.milliseconds() < deadline {
      var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      guard poll(&p, 1, 100) > 0 else { continue }
      var buffer = [UInt8](repeating: 0, count: count - got.count)
      let n = recv(fd, &buffer, buffer.count, 0)
      if n <= 0 { break }
      got += buffer.prefix(n)
    }
    return got
  }

  /// Everything until the server closes (or the timeout).
  func readAll(timeoutMs: Int) -> [UInt8] {
    var got: [UInt8] = []
    let deadline = Monotonic.milliseconds() + Int64(timeoutMs)
    while Monotonic.milliseconds() < deadline {
      var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      guard poll(&p, 1, 100) > 0 else { continue }
      var buffer = [UInt8](repeating: 0, count: 256)
      let n = recv(fd, &buffer, buffer.count, 0)
      if n <= 0 { break }
      got += buffer.prefix(n)
    }
    return got
  }

  func close() { Glibc.close(fd) }
}
