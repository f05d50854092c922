import Foundation
import PartitionedLog

@testable import Ingest
@testable import MQTT

/// One MQTT source's decoder with a route of every kind, and the store its router writes to,
/// made once: opening a store per input would be all the fuzzer measured.
/// `@unchecked Sendable`: libFuzzer calls the harness from one thread; nothing is shared.
private final class MQTTPayloadBench: @unchecked Sendable {
  static let shared = MQTTPayloadBench()

  /// Each route is `v<i>/#`; the first input byte picks one.
  static let variants: [(PayloadFormat, KeySource, [String]?, TimeFormat)] = [
    (.json, .field(["device"]), ["ts"], .auto),
    (.json, .topicLevel(1), ["ts"], .epochMs),
    (.json, .topicLevel(9), ["t", "s"], .epochS),
    (.json, .fixed("k"), ["ts"], .rfc3339),
    (.json, .none, nil, .auto),
    (.raw, .topicLevel(1), nil, .auto),
    (.text, .fixed("k"), nil, .auto),
    (.json, .field(["a", "b", "c"]), ["ts"], .auto),
  ]

  let store: LogStore
  let router: LogRouter
  let decoder: MQTTMessageDecoder
  var inputs = 0

  init() {
    let dir = NSTemporaryDirectory() + "weir-fuzz-mqtt-\(getpid())"
    try? FileManager.default.removeItem(atPath: dir)
    // Small limits, so that short inputs reach the oversize and batch-splitting paths.
    let options = LogOptions(minFreeBytes: 0, maxBatchBytes: 64 << 10, metadataReserveBytes: 0)
    store = try! LogStore.open(directory: dir, options: options)
    router = try! LogRouter(store: store, source: "fuzz")
    var config = MQTTSourceConfig(
      client: MQTTClientConfig(host: "127.0.0.1", port: 1883, clientID: "fuzz"),
      subscriptions: Self.variants.enumerated().map { i, v in
        MQTTSubscription(filter: "v\(i)/#", key: v.1, format: v.0, timeField: v.2, timeFormat: v.3)
      })
    config.maxPayloadBytes = 2048
    decoder = try! MQTTMessageDecoder(config: config, router: router, source: "fuzz")
  }

  /// Byte 0 picks the route, byte 1 the QoS and how many user properties; then the topic's last
  /// levels up to a NUL, then the payload.
  func run(_ data: UnsafeRawBufferPointer) {
    guard data.count >= 2 else { return }
    let variant = Int(data[0]) % Self.variants.count
    let rest = UnsafeRawBufferPointer(rebasing: data[2...])
    let split = rest.firstIndex(of: 0) ?? rest.startIndex
    var topic = Array("v\(variant)/".utf8)
    topic += rest[rest.startIndex..<split]
    let payload = UnsafeRawBufferPointer(rebasing: rest[(split == rest.startIndex ? split : split + 1)...])
    var properties: [(String, String)] = []
    for i in 0..<Int(data[1] >> 4) {
      properties.append(("p\(i)", String(repeating: "x", count: Int(data[1] & 0x0f) * 300)))
    }
    let before = router.pendingRecords
    decoder.now = 1_700_000_000_000
    _ = topic.withUnsafeBytes { t in
      decoder.handle(
        MQTTMessageView(
          topic: t, payload: payload, qos: Int32(data[1] & 3), retain: false, mid: 1, userProperties: properties))
    }
    // Every routed message becomes exactly one record or one dead letter.
    precondition(router.pendingRecords == before + 1, "a message became \(router.pendingRecords - before) records")
    inputs += 1
    // Now and then the pass goes to the log, which must take every batch the router made.
    if inputs % 64 == 0 || router.pendingBytes > 256 << 10 {
      do {
        try router.commit()
      } catch {
        preconditionFailure("the log refused a batch the router made: \(error)")
      }
      precondition(router.pendingRecords == 0)
    }
  }
}

extension FuzzTargets {
  /// MQTT messages (topic, payload, user properties) through the MQTT source's decoder: JSON
  /// validation, keys from topics and fields, event times of every format, dead letters.
  static func mqttPayload(_ data: UnsafeRawBufferPointer) {
    MQTTPayloadBench.shared.run(data)
  }
}
