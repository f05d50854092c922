import Testing

@testable import MQTTWire

/// What the decoder refuses, and with which reason code: the connection is closed with it (a 5.0
/// client is told in a DISCONNECT), so it must be the one the specifications name.
@Suite struct MalformedTests {
  static func reason(_ bytes: [UInt8], version: ProtocolVersion = .v5, maxPacket: Int = 1 << 20) -> ReasonCode? {
    bytes.withUnsafeBytes { raw -> ReasonCode? in
      switch Frame.scan(raw, maxPacket: maxPacket) {
      case .incomplete: return nil
      case .tooLarge: return .packetTooLarge
      case .malformed(let e): return e.reason
      case .packet(let header):
        do throws(WireError) {
          _ = try Packet.decode(header, raw, version: version)
          return .success
        } catch {
          return error.reason
        }
      }
    }
  }

  @Test func framing() {
    #expect(Self.reason([0x00, 0x00]) == .malformedPacket, "packet type 0")
    #expect(Self.reason([0x30]) == nil, "one byte: read more")
    #expect(Self.reason([0x30, 0x80]) == nil, "the length goes on: read more")
    #expect(Self.reason([0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]) == .malformedPacket, "a 5-byte length")
    #expect(Self.reason([0x36, 0x00]) == .malformedPacket, "QoS 3")
    #expect(Self.reason([0x82, 0x00]) == .malformedPacket, "SUBSCRIBE's flags must be 0010")
    #expect(Self.reason([0x80, 0x00]) == .malformedPacket)
    #expect(Self.reason([0xC1, 0x00]) == .malformedPacket, "PINGREQ with a flag")
    #expect(Self.reason([0x30, 0x7F], maxPacket: 100) == .packetTooLarge, "refused before the body arrives")
    let scan = [UInt8]([0x30, 0x05, 0x00]).withUnsafeBytes { Frame.scan($0, maxPacket: 100) }
    #expect(scan == .incomplete(needed: 7))
  }

  @Test func publish() {
    // 30 len 00 03 'a' '/' '+' : a wildcard in the topic name.
    #expect(Self.reason([0x30, 5, 0, 3, 0x61, 0x2F, 0x2B], version: .v3_1_1) == .topicNameInvalid)
    // QoS 1 with packet identifier 0.
    #expect(Self.reason([0x32, 5, 0, 1, 0x61, 0, 0], version: .v3_1_1) == .protocolError)
    // DUP on QoS 0.
    #expect(Self.reason([0x38, 3, 0, 1, 0x61], version: .v3_1_1) == .protocolError)
    // An empty topic without an alias.
    #expect(Self.reason([0x30, 3, 0, 0, 0]) == .topicNameInvalid)
    // The topic's length runs past the packet.
    #expect(Self.reason([0x30, 3, 0, 9, 0x61], version: .v3_1_1) == .malformedPacket)
    // Invalid UTF-8 (an overlong '/'), and U+0000, in the topic.
    #expect(Self.reason([0x30, 4, 0, 2, 0xC0, 0xAF], version: .v3_1_1) == .malformedPacket)
    #expect(Self.reason([0x30, 4, 0, 2, 0x61, 0x00], version: .v3_1_1) == .malformedPacket)
    // 5.0: an empty property block is fine; a subscription identifier from a client is not.
    #expect(Self.reason([0x30, 4, 0, 1, 0x61, 0]) == .success)
    #expect(Self.reason([0x30, 6, 0, 1, 0x61, 2, 0x0B, 1]) == .protocolError)
    // A property given twice; an unknown property; a property length past the packet.
    #expect(Self.reason([0x30, 8, 0, 1, 0x61, 4, 0x01, 0, 0x01, 0]) == .protocolError)
    #expect(Self.reason([0x30, 6, 0, 1, 0x61, 2, 0x7F, 0]) == .malformedPacket)
    #expect(Self.reason([0x30, 4, 0, 1, 0x61, 9]) == .malformedPacket)
    // Topic alias 0; a payload marked UTF-8 that is not.
    #expect(Self.reason([0x30, 7, 0, 1, 0x61, 3, 0x23, 0, 0]) == .protocolError)
    #expect(Self.reason([0x30, 7, 0, 1, 0x61, 2, 0x01, 1, 0xFF]) == .payloadFormatInvalid)
    // A property length not in its shortest form.
    #expect(Self.reason([0x30, 5, 0, 1, 0x61, 0x80, 0x00]) == .malformedPacket)
  }

  @Test func connect() {
    func connect(name: String = "MQTT", level: UInt8 = 4, flags: UInt8 = 0x02, rest: [UInt8] = [0, 1, 0x63]) -> [UInt8]
    {
      var body: [UInt8] = [0, UInt8(name.utf8.count)] + Array(name.utf8) + [level, flags, 0, 60]
      if level == 5 { body.append(0) }
      body += rest
      return [0x10, UInt8(body.count)] + body
    }
    #expect(Self.reason(connect()) == .success)
    #expect(Self.reason(connect(level: 5)) == .success)
    #expect(Self.reason(connect(name: "MQIsdp", level: 3)) == .success)
    #expect(Self.reason(connect(level: 6)) == .unsupportedProtocolVersion)
    #expect(Self.reason(connect(name: "MQIsdp", level: 4)) == .unsupportedProtocolVersion)
    #expect(Self.reason(connect(name: "HTTP")) == .protocolError)
    #expect(Self.reason(connect(flags: 0x03)) == .malformedPacket, "the reserved flag")
    #expect(Self.reason(connect(flags: 0x0A)) == .malformedPacket, "will QoS without a will")
    #expect(Self.reason(connect(flags: 0x42)) == .protocolError, "3.1.1: a password without a user name")
    #expect(Self.reason(connect(flags: 0x82)) == .malformedPacket, "a user name flag, but no user name")
    #expect(Self.reason(connect(rest: [0, 1, 0x63, 0xEE])) == .malformedPacket, "bytes after the end")
  }

  @Test func acksSubscriptionsAndDisconnect() {
    #expect(Self.reason([0x40, 2, 0, 5], version: .v3_1_1) == .success)
    #expect(Self.reason([0x40, 3, 0, 5, 0], version: .v3_1_1) == .malformedPacket, "3.1.1 PUBACKs are 2 bytes")
    #expect(Self.reason([0x40, 3, 0, 5, 0x10]) == .success, "5.0: a reason code without properties")
    #expect(Self.reason([0x40, 2, 0, 0]) == .protocolError, "packet identifier 0")
    #expect(Self.reason([0x82, 3, 0, 1, 0]) == .protocolError, "a SUBSCRIBE without a filter")
    #expect(Self.reason([0x82, 6, 0, 1, 0, 1, 0x61, 0x03], version: .v3_1_1) == .malformedPacket, "QoS 3")
    #expect(Self.reason([0x82, 6, 0, 1, 0, 1, 0x61, 0x04], version: .v3_1_1) == .malformedPacket, "3.1.1 reserved")
    #expect(Self.reason([0x82, 7, 0, 1, 0, 0, 1, 0x61, 0x30]) == .protocolError, "retain handling 3")
    #expect(Self.reason([0x82, 7, 0, 1, 0, 0, 1, 0x61, 0x44]) == .malformedPacket, "5.0 reserved bits")
    #expect(Self.reason([0xE0, 0], version: .v3_1_1) == .success)
    #expect(Self.reason([0xE0, 1, 0], version: .v3_1_1) == .malformedPacket)
    #expect(Self.reason([0xE0, 1, 0x04]) == .success, "5.0: disconnect with will")
    #expect(Self.reason([0xF0, 0], version: .v3_1_1) == .protocolError, "AUTH is 5.0 only")
    #expect(Self.reason([0xC0, 1, 0]) == .malformedPacket, "PINGREQ with a body")
  }
}
