import Foundation
import MQTT
import WeirTestSupport

#if canImport(Glibc)
  import Glibc
#endif

/// Publishes through our libmosquitto wrapper on its own thread, QoS 0 or 1, and waits for the
/// broker's acknowledgements. Reconnects when the broker goes away and resends what was not
/// acknowledged.
final class TestPublisher: @unchecked Sendable {
  let client: MosquittoClient
  private(set) var acked = Set<Int32>()
  private(set) var ackedPayloads: [Int32: [UInt8]] = [:]
  private var inflight: [Int32: (String, [UInt8])] = [:]
  private var connected = false

  init(port: Int, id: String, version: MQTTClientConfig.ProtocolVersion = .v311) throws {
    client = try MosquittoClient(
      config: MQTTClientConfig(host: "127.0.0.1", port: port, clientID: id, protocolVersion: version, cleanSession: true))
    client.onConnect = { [unowned self] rc, _, _ in connected = rc == 0 }
    client.onPublish = { [unowned self] mid, _ in
      if let (_, payload) = inflight.removeValue(forKey: mid) { ackedPayloads[mid] = payload }
      acked.insert(mid)
    }
    try client.connect()
    try pump(until: { self.connected }, seconds: 10)
  }

  /// Publishes every message and returns the payloads the broker acknowledged.
  @discardableResult
  func publishAll(_ messages: [(topic: String, payload: [UInt8])], qos: Int32, window: Int = 500, seconds: Double = 120) throws
    -> [[UInt8]]
  {
    var next = 0
    var done: [[UInt8]] = []
    let deadline = Date().addingTimeInterval(seconds)
    while (next < messages.count || !inflight.isEmpty) && Date() < deadline {
      while next < messages.count && inflight.count < window {
        let (topic, payload) = messages[next]
        let mid = try payload.withUnsafeBytes { try client.publish(topic: topic, payload: $0, qos: qos) }
        if qos > 0 { inflight[mid] = (topic, payload) } else { done.append(payload) }
        next += 1
      }
      do {
        _ = try client.readAvailable(maxMessages: 1000, timeoutMs: 5) { _ in }
        try client.writePending()
      } catch {
        // The broker went away: reconnect and resend what it did not acknowledge.
        connected = false
        while !connected && Date() < deadline {
          usleep(100_000)
          if (try? client.reconnect()) != nil { try? pump(until: { self.connected }, seconds: 2) }
        }
        let resend = inflight.values
        inflight.removeAll()
        for (topic, payload) in resend {
          let mid = try payload.withUnsafeBytes { try client.publish(topic: topic, payload: $0, qos: qos) }
          inflight[mid] = (topic, payload)
        }
      }
    }
    done += ackedPayloads.values
    ackedPayloads.removeAll()
    return done
  }

  func pump(until condition: () -> Bool, seconds: Double) throws {
    let deadline = Date().addingTimeInterval(seconds)
    while !condition() {
      if Date() > deadline { throw BrokerError("timed out talking to the broker") }
      try client.writePending()
      _ = try client.readAvailable(maxMessages: 100, timeoutMs: 10) { _ in }
    }
  }

  func close() {
    client.disconnect()
    try? client.writePending()
  }
}
