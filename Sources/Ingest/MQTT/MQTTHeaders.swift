import MQTTWire
import PartitionedLog

/// The headers an MQTT message's record carries, one list for the writers
/// (``MQTTMessageDecoder``, the listener's events writer) and the reader (``MQTTRecordHeaders``).
enum MQTTHeader {
  /// The MQTT topic the message was published on.
  static let topic = "mqtt.topic"
  /// The QoS it was published with, `0`, `1` or `2`.
  static let qos = "mqtt.qos"
  /// Present (`1`) on a retained PUBLISH.
  static let retain = "mqtt.retain"
  /// The publishing client's identifier (the listener's clients).
  static let clientID = "mqtt.client_id"
  /// A persistent session's QoS 2 packet identifier, in decimal (the listener's clients).
  static let packetID = "mqtt.packet_id"
  /// The source that wrote the record (`listener:<name>`, the MQTT source's name).
  static let source = "source"

  /// The same names as bytes, for the per-message paths.
  enum Bytes {
    static let topic = Array(MQTTHeader.topic.utf8)
    static let qos = Array(MQTTHeader.qos.utf8)
    static let retain = Array(MQTTHeader.retain.utf8)
    static let clientID = Array(MQTTHeader.clientID.utf8)
    static let packetID = Array(MQTTHeader.packetID.utf8)
    static let source = Array(MQTTHeader.source.utf8)
  }
}

/// The MQTT headers of a record (written by ``MQTTMessageDecoder`` and the listener's events
/// writer), found in one pass over its headers instead of one lookup each.
struct MQTTRecordHeaders {
  /// `mqtt.topic`: records without one are not MQTT messages, and never delivered.
  var topic: UnsafeRawBufferPointer?
  /// `mqtt.client_id`: the publisher.
  var origin: UnsafeRawBufferPointer?
  /// `mqtt.qos` (0 without one).
  var qos = QoS.atMostOnce
  /// `mqtt.retain` is present.
  var retained = false
  /// `source`.
  var source: UnsafeRawBufferPointer?
  /// `mqtt.packet_id`: the packet identifier of a persistent session's QoS 2 PUBLISH (decimal).
  var packetID: UInt16?

  /// A packet identifier in decimal, 1 to 65,535, or nil (a record is a file's bytes: any bytes).
  static func packetID(_ text: UnsafeRawBufferPointer) -> UInt16? {
    guard (1...5).contains(text.count) else { return nil }
    var n: UInt32 = 0
    for b in text {
      guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return nil }
      n = n * 10 + UInt32(b - UInt8(ascii: "0"))
    }
    return n > 0 && n <= 65_535 ? UInt16(n) : nil
  }

  init(_ record: RecordView) {
    var it = record.headers
    while let h = it.next() {
      let key = h.key
      if key.elementsEqual(MQTTHeader.Bytes.topic) {
        topic = h.value
      } else if key.elementsEqual(MQTTHeader.Bytes.clientID) {
        origin = h.value
      } else if key.elementsEqual(MQTTHeader.Bytes.qos) {
        qos = h.value.flatMap { $0.first.flatMap { QoS(rawValue: $0 &- UInt8(ascii: "0")) } } ?? .atMostOnce
      } else if key.elementsEqual(MQTTHeader.Bytes.retain) {
        retained = true
      } else if key.elementsEqual(MQTTHeader.Bytes.source) {
        source = h.value
      } else if key.elementsEqual(MQTTHeader.Bytes.packetID), let v = h.value {
        packetID = Self.packetID(v)
      }
    }
  }
}
