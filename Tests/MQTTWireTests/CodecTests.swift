import Testing
import WeirCore

@testable import MQTTWire

/// Encodes with ``Encoder`` and decodes with ``Frame`` and ``Packet``: every packet type round-trips
/// in 3.1.1 and 5.0, and the layouts are checked byte for byte against the specifications' examples.
@Suite struct CodecTests {
  /// Decodes the one packet `bytes` holds.
  static func decode(_ bytes: [UInt8], version: ProtocolVersion, maxPacket: Int = 1 << 20) throws -> Packet {
    try bytes.withUnsafeBytes { raw in
      guard case .packet(let header) = Frame.scan(raw, maxPacket: maxPacket) else {
        throw WireError(.unspecifiedError, "not one whole packet")
      }
      #expect(header.packetLength == raw.count)
      return try Packet.decode(header, raw, version: version)
    }
  }

  static func encoded(_ body: (ByteBuffer) -> Void) -> [UInt8] {
    let out = ByteBuffer(capacity: 64)
    body(out)
    return Array(out.bytes)
  }

  static func text(_ b: UnsafeRawBufferPointer?) -> String? { b.map { String(decoding: $0, as: UTF8.self) } }

  @Test(arguments: [ProtocolVersion.v3_1_1, .v5])
  func publishRoundTrips(_ version: ProtocolVersion) throws {
    let bytes = Self.encoded { out in
      "sensors/7/telemetry".utf8CString.dropLast().withUnsafeBytes { topic in
        #"{"t":21.5}"#.utf8CString.dropLast().withUnsafeBytes { payload in
          Encoder.publish(
            out, version: version, topic: topic, payload: payload, qos: .atLeastOnce, retain: true,
            packetIdentifier: 513
          ) { p in
            p.uint32(PropertyID.messageExpiryInterval, 60)
            "site".utf8CString.dropLast().withUnsafeBytes { k in
              "north".utf8CString.dropLast().withUnsafeBytes { v in p.userProperty(k, v) }
            }
          }
        }
      }
    }
    guard case .publish(let p) = try Self.decode(bytes, version: version) else {
      Issue.record("not a PUBLISH")
      return
    }
    #expect(Self.text(p.topic) == "sensors/7/telemetry")
    #expect(Self.text(p.payload) == #"{"t":21.5}"#)
    #expect(p.qos == .atLeastOnce && p.retain && !p.dup && p.packetIdentifier == 513)
    if version == .v5 {
      #expect(p.properties.messageExpiryInterval == 60)
      var pairs: [String] = []
      p.properties.forEachUserProperty { pairs.append("\(Self.text($0)!)=\(Self.text($1)!)") }
      #expect(pairs == ["site=north"])
    } else {
      #expect(p.properties.messageExpiryInterval == nil)
    }
  }

  /// MQTT 3.1.1's own figures: a PUBACK is `40 02 id id`; PINGREQ `C0 00`; PINGRESP `D0 00`.
  @Test func shortPacketsAreTheSpecificationsBytes() {
    #expect(
      Self.encoded { Encoder.ack($0, .puback, packetIdentifier: 0x1234, version: .v3_1_1) } == [0x40, 2, 0x12, 0x34])
    #expect(Self.encoded { Encoder.ack($0, .puback, packetIdentifier: 0x1234, version: .v5) } == [0x40, 2, 0x12, 0x34])
    #expect(Self.encoded { Encoder.ack($0, .pubrel, packetIdentifier: 1, version: .v3_1_1) } == [0x62, 2, 0, 1])
    #expect(
      Self.encoded { Encoder.ack($0, .pubrec, packetIdentifier: 9, version: .v5, reason: .quotaExceeded) }
        == [0x50, 3, 0, 9, 0x97], "no property length when there are none (5.0 3.4.2.2.1)")
    #expect(Self.encoded { Encoder.pingresp($0) } == [0xD0, 0])
    #expect(Self.encoded { Encoder.pingreq($0) } == [0xC0, 0])
    #expect(
      Self.encoded { Encoder.connack($0, version: .v3_1_1, sessionPresent: true, reason: .notAuthorized) }
        == [0x20, 2, 1, 5])
    #expect(
      Self.encoded { Encoder.connack($0, version: .v5, sessionPresent: false, reason: .success) } == [0x20, 3, 0, 0, 0])
    #expect(Self.encoded { Encoder.disconnect($0, version: .v5, reason: .packetTooLarge) } == [0xE0, 2, 0x95, 0])
  }

  @Test(arguments: [ProtocolVersion.v3_1, .v3_1_1, .v5])
  func connectRoundTrips(_ version: ProtocolVersion) throws {
    let bytes = Self.encoded { out in
      Array("dev-1".utf8).withUnsafeBytes { id in
        Array("alice".utf8).withUnsafeBytes { user in
          Array("s3cret".utf8).withUnsafeBytes { password in
            Array("devices/dev-1/status".utf8).withUnsafeBytes { willTopic in
              Array("offline".utf8).withUnsafeBytes { willPayload in
                Encoder.connect(
                  out, version: version, clientIdentifier: id, cleanStart: false, keepAliveSeconds: 30, userName: user,
                  password: password, will: (willTopic, willPayload, .atLeastOnce, true),
                  properties: { $0.uint32(PropertyID.sessionExpiryInterval, 3600) },
                  willProperties: { $0.uint32(PropertyID.willDelayInterval, 5) })
              }
            }
          }
        }
      }
    }
    guard case .connect(let c) = try Self.decode(bytes, version: .v3_1_1) else {
      Issue.record("not a CONNECT")
      return
    }
    #expect(c.version == version && !c.cleanStart && c.keepAliveSeconds == 30)
    #expect(Self.text(c.clientIdentifier) == "dev-1" && Self.text(c.userName) == "alice")
    #expect(Self.text(c.password) == "s3cret")
    let will = try #require(c.will)
    #expect(Self.text(will.topic) == "devices/dev-1/status" && Self.text(will.payload) == "offline")
    #expect(will.qos == .atLeastOnce && will.retain)
    #expect(c.properties.sessionExpiryInterval == (version == .v5 ? 3600 : nil))
    #expect(will.properties.willDelayInterval == (version == .v5 ? 5 : nil))
  }

  @Test(arguments: [ProtocolVersion.v3_1_1, .v5])
  func subscribeAndUnsubscribeRoundTrip(_ version: ProtocolVersion) throws {
    let filters = ["sensors/+/telemetry", "alerts/#", "$share/hmi/plant/+"]
    let options = [
      SubscriptionOptions(qos: .atLeastOnce), SubscriptionOptions(qos: .atMostOnce),
      SubscriptionOptions(qos: .exactlyOnce),
    ]
    let v5Options = [
      SubscriptionOptions(qos: .atLeastOnce, noLocal: true), SubscriptionOptions(qos: .atMostOnce, retainHandling: 2),
      SubscriptionOptions(qos: .exactlyOnce, retainAsPublished: true),
    ]
    let chosen = version == .v5 ? v5Options : options
    let raw = filters.map { Array($0.utf8) }
    let bytes = Self.encoded { out in
      raw[0].withUnsafeBytes { a in
        raw[1].withUnsafeBytes { b in
          raw[2].withUnsafeBytes { c in
            Encoder.subscribe(
              out, version: version, packetIdentifier: 7, filters: [(a, chosen[0]), (b, chosen[1]), (c, chosen[2])],
              subscriptionIdentifier: version == .v5 ? 42 : nil)
          }
        }
      }
    }
    guard case .subscribe(let s) = try Self.decode(bytes, version: version) else {
      Issue.record("not a SUBSCRIBE")
      return
    }
    var got: [(String, SubscriptionOptions)] = []
    s.forEach { got.append((Self.text($0)!, $1)) }
    #expect(s.packetIdentifier == 7 && s.count == 3)
    #expect(got.map(\.0) == filters && got.map(\.1) == chosen)
    #expect(s.properties.subscriptionIdentifier == (version == .v5 ? 42 : nil))

    let un = Self.encoded { out in
      raw[0].withUnsafeBytes { a in
        raw[1].withUnsafeBytes { b in Encoder.unsubscribe(out, version: version, packetIdentifier: 8, filters: [a, b]) }
      }
    }
    guard case .unsubscribe(let u) = try Self.decode(un, version: version) else {
      Issue.record("not an UNSUBSCRIBE")
      return
    }
    var names: [String] = []
    u.forEach { names.append(Self.text($0)!) }
    #expect(u.packetIdentifier == 8 && names == Array(filters.prefix(2)))
  }

  @Test func theRemainingLengthIsTheShortestVariableByteInteger() {
    for (length, size) in [(0, 1), (127, 1), (128, 2), (16_383, 2), (16_384, 3), (2_097_151, 3), (2_097_152, 4)] {
      #expect(Encoder.varintSize(length) == size)
    }
    // A 200-byte payload: the length takes two bytes, and the packet still decodes.
    let payload = [UInt8](repeating: 0x41, count: 200)
    let bytes = Self.encoded { out in
      Array("t".utf8).withUnsafeBytes { t in
        payload.withUnsafeBytes { Encoder.publish(out, version: .v3_1_1, topic: t, payload: $0, qos: .atMostOnce) }
      }
    }
    #expect(bytes[1] == 0x80 | ((2 + 1 + 200) & 0x7F) && bytes[2] == (2 + 1 + 200) >> 7)
    if case .publish(let p) = try? Self.decode(bytes, version: .v3_1_1) {
      #expect(p.payload.count == 200)
    } else {
      Issue.record("the 200-byte PUBLISH did not decode")
    }
  }
}
