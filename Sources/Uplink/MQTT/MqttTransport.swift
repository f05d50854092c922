import Foundation
import Logging
import MQTT
import Synchronization
import WeirCore

/// The uplink's way to a central MQTT broker through the gateway's one libmosquitto wrapper:
/// QoS 1 publishes on a persistent session, PUBACKs as delivery reports. A thread of its own
/// drives the connection (connect and reconnect with back-off, reads, writes, keepalive); the
/// uplink's thread publishes and collects the acknowledgements it queued.
/// `@unchecked Sendable`: the bookkeeping vars (`pending`, `order`, `client`, `loop`) belong to the uplink's thread; what the connection thread shares with it is in `link.shared` (a `Mutex`).
final class MqttTransport: UplinkTransport, @unchecked Sendable {
  let kind = "mqtt"
  private let config: MqttUplinkConfig
  private let logger: Logger
  private var client: MosquittoClient
  private var topics: [String] = []
  private var wakeup: WakePipe?
  private var loop: ConnectionLoop?

  // The uplink thread's: message id to token, and sends in order for the ack timeout.
  private var pending: [Int32: UInt64] = [:]
  private var order: [(mid: Int32, token: UInt64, sentAtNs: Int64)] = []
  private var orderHead = 0
  private var envelope: [UInt8] = []

  /// What the connection thread hands over.
  struct Shared {
    var acks: [(mid: Int32, reason: Int32)] = []
    var connected = false
    /// CONNACK arrived; ``connected`` follows once libmosquitto has queued its re-sends.
    var accepted = false
    var connectedSinceNs: Int64 = 0
    /// A connection attempt failed or a connection was lost (until then, reachability is unknown).
    var troubled = false
  }

  /// State both threads touch.
  final class Link: Sendable {
    let shared = Mutex(Shared())
    /// Publishes awaiting PUBACK, so the connection thread polls briskly only while there are some.
    let outstanding = Atomic<Int>(0)
  }
  private let link = Link()

  // libmosquitto's codes (mosquitto.h), which only the wrapper may import.
  static let noConnection: Int32 = 4
  static let payloadTooLarge: Int32 = 9
  static let oversizePacket: Int32 = 25

  init(config: MqttUplinkConfig, logger: Logger) throws(UplinkError) {
    self.config = config
    self.logger = logger
    client = try Self.makeClient(config)
  }

  private static func makeClient(_ config: MqttUplinkConfig) throws(UplinkError) -> MosquittoClient {
    do {
      return try MosquittoClient(config: config.broker)
    } catch {
      throw UplinkError(.transport, "uplink \(config.uplink.name): \(error.message)")
    }
  }

  deinit { loop?.stop() }

  func attach(_ wakeup: WakePipe) {
    self.wakeup = wakeup
    startLoop()
  }

  private func startLoop() {
    let link = self.link
    let wakeup = self.wakeup
    let logger = self.logger
    let name = config.uplink.name
    client.onPublish = { mid, reason in
      link.shared.withLock { $0.acks.append((mid, reason)) }
      wakeup?.signal()
    }
    client.onConnect = { rc, sessionPresent, reason in
      if rc == 0 {
        // libmosquitto re-sends what was in flight only after this callback returns: publishing
        // before that would put new records ahead of them. The connection loop opens the gate.
        link.shared.withLock { $0.accepted = true }
        logger.info(
          "connected to the central MQTT broker",
          metadata: ["uplink": "\(name)", "session_present": "\(sessionPresent)"])
      } else {
        logger.warning(
          "the central MQTT broker refused the connection", metadata: ["uplink": "\(name)", "reason": "\(reason)"])
      }
    }
    client.onDisconnect = { rc, reason in
      link.shared.withLock {
        $0.connected = false
        $0.accepted = false
        if rc != 0 { $0.troubled = true }
      }
      if rc != 0 {
        logger.warning(
          "disconnected from the central MQTT broker", metadata: ["uplink": "\(name)", "reason": "\(reason)"])
      }
    }
    let loop = ConnectionLoop(
      client: client, backoff: config.reconnectBackoff, link: link, wakeup: wakeup, logger: logger, name: name)
    self.loop = loop
    loop.start()
  }

  func remoteTopic(_ name: String) throws(UplinkError) -> Int {
    if let index = topics.firstIndex(of: name) { return index }
    topics.append(name)
    return topics.count - 1
  }

  func send(
    topic: Int, key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer?, timestamp: Int64,
    headers: UnsafeBufferPointer<HeaderRef>, token: UInt64
  ) -> SendOutcome {
    guard link.shared.withLock({ $0.connected }) else { return .busy }
    MqttEnvelope.encode(key: key, value: value, timestamp: timestamp, headers: headers, into: &envelope)
    var result: Result<Int32, MQTTError> = .failure(MQTTError(code: -1, message: "not published"))
    envelope.withUnsafeBytes { payload in
      result = Result { () throws(MQTTError) -> Int32 in
        try client.publish(topic: topics[topic], payload: payload, qos: 1)
      }
    }
    switch result {
    case .success(let mid):
      pending[mid] = token
      order.append((mid, token, Monotonic.nanoseconds()))
      link.outstanding.store(pending.count, ordering: .relaxed)
      return .accepted
    case .failure(let error):
      switch error.code {
      case Self.noConnection:
        link.shared.withLock { $0.connected = false }
        return .failed("publish to \(topics[topic]): \(error.message)")
      case Self.payloadTooLarge, Self.oversizePacket: return .rejected("publish to \(topics[topic]): \(error.message)")
      default: return .failed("publish to \(topics[topic]): \(error.message)")
      }
    }
  }

  func poll(timeoutMs: Int32, _ handler: (UInt64, DeliveryOutcome) -> Void) {
    let (acks, connected, since) = link.shared.withLock { state in
      let taken = state.acks
      state.acks.removeAll(keepingCapacity: true)
      return (taken, state.connected, state.connectedSinceNs)
    }
    for (mid, reason) in acks {
      guard let token = pending.removeValue(forKey: mid) else { continue }
      // MQTT 5 reason codes from 0x80 are refusals; 3.1.1 PUBACKs carry none.
      handler(
        token, reason < 0x80 ? .delivered : .failed("the broker refused a publish (reason \(reason))", purged: false))
    }
    while orderHead < order.count, pending[order[orderHead].mid] != order[orderHead].token { orderHead += 1 }
    if orderHead > 4096 && orderHead * 2 > order.count {
      order.removeFirst(orderHead)
      orderHead = 0
    }
    // A PUBACK that never comes (the broker lost the message or the session) fails every
    // record in flight: they are read from the log and published again.
    let now = Monotonic.nanoseconds()
    if connected, orderHead < order.count,
      now - max(order[orderHead].sentAtNs, since) > Int64(config.ackTimeoutMs) * 1_000_000
    {
      let lost = pending
      pending.removeAll()
      order.removeAll()
      orderHead = 0
      for (_, token) in lost {
        handler(token, .failed("no PUBACK within \(config.ackTimeoutMs) ms", purged: false))
      }
    }
    link.outstanding.store(pending.count, ordering: .relaxed)
  }

  /// libmosquitto cannot take back a queued publish; a record that fails is published again.
  func abandonQueued() {}

  var brokenReason: String? { nil }

  var reachable: Bool? { link.shared.withLock { $0.connected ? true : $0.troubled ? false : nil } }

  var overtakeGuardMs: Int? { nil }

  var drainTimeoutMs: Int { config.ackTimeoutMs * 2 }

  func restart() throws(UplinkError) {
    loop?.stop()
    client.disconnect()
    client = try Self.makeClient(config)
    pending.removeAll()
    order.removeAll()
    orderHead = 0
    link.shared.withLock { $0 = Shared() }
    startLoop()
  }

  func close() {
    loop?.stop()
    loop = nil
    client.disconnect()
    try? client.writePending()
  }
}
