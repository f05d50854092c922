public import WeirCore

/// Writes MQTT packets into a ``ByteBuffer`` (appending; nothing else is allocated). The layouts
/// are those the decoder's types document. Lengths (the Remaining Length, a property block's) are
/// written as 4-byte placeholders and the bytes after them moved down once the length is known,
/// so a packet is written in one pass.
public enum Encoder {
  // MARK: Server to client

  /// CONNACK. `properties` (5.0 only) writes the CONNACK's properties.
  public static func connack(
    _ out: ByteBuffer, version: ProtocolVersion, sessionPresent: Bool, reason: ReasonCode,
    properties: (inout PropertyWriter) -> Void = { _ in }
  ) {
    packet(out, .connack, flags: 0) {
      out.appendByte(sessionPresent ? 1 : 0)
      if version.hasProperties {
        out.appendByte(reason.rawValue)
        propertyBlock(out, properties)
      } else {
        out.appendByte(reason.connackReturnCode)
      }
    }
  }

  /// PUBACK, PUBREC, PUBREL or PUBCOMP. 5.0 with success and no reason string is the short
  /// 2-byte form, as 3.1.1 always is.
  public static func ack(
    _ out: ByteBuffer, _ type: PacketType, packetIdentifier: UInt16, version: ProtocolVersion,
    reason: ReasonCode = .success, reasonString: UnsafeRawBufferPointer? = nil
  ) {
    let flags: UInt8 = type == .pubrel ? 0b0010 : 0
    if !version.hasProperties || (reason == .success && reasonString == nil) {
      out.reserve(4)
      out.appendByte(type.rawValue << 4 | flags)
      out.appendByte(2)
      out.appendBigEndian(packetIdentifier)
      return
    }
    packet(out, type, flags: flags) {
      out.appendBigEndian(packetIdentifier)
      out.appendByte(reason.rawValue)
      if let reasonString {
        propertyBlock(out) { $0.string(PropertyID.reasonString, reasonString) }
      }
    }
  }

  /// SUBACK or UNSUBACK with one reason code per filter (a 3.1.1 UNSUBACK carries none).
  public static func subAck(
    _ out: ByteBuffer, _ type: PacketType, packetIdentifier: UInt16, version: ProtocolVersion,
    reasons: UnsafeRawBufferPointer
  ) {
    packet(out, type, flags: 0) {
      out.appendBigEndian(packetIdentifier)
      if version.hasProperties { out.appendByte(0) }
      if version.hasProperties || type == .suback { out.append(reasons) }
    }
  }

  public static func pingresp(_ out: ByteBuffer) {
    out.appendByte(PacketType.pingresp.rawValue << 4)
    out.appendByte(0)
  }

  /// DISCONNECT: 5.0 with a reason code (and its properties); 3.1.1's is empty, and only a
  /// client sends one.
  public static func disconnect(
    _ out: ByteBuffer, version: ProtocolVersion, reason: ReasonCode = .normalDisconnection,
    properties: (inout PropertyWriter) -> Void = { _ in }
  ) {
    packet(out, .disconnect, flags: 0) {
      if version.hasProperties {
        out.appendByte(reason.rawValue)
        propertyBlock(out, properties)
      }
    }
  }

  /// AUTH (5.0).
  public static func auth(_ out: ByteBuffer, reason: ReasonCode, properties: (inout PropertyWriter) -> Void) {
    packet(out, .auth, flags: 0) {
      out.appendByte(reason.rawValue)
      propertyBlock(out, properties)
    }
  }

  // MARK: Either way

  /// PUBLISH. `packetIdentifier` is ignored at QoS 0.
  public static func publish(
    _ out: ByteBuffer, version: ProtocolVersion, topic: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer,
    qos: QoS, retain: Bool = false, dup: Bool = false, packetIdentifier: UInt16 = 0,
    properties: (inout PropertyWriter) -> Void = { _ in }
  ) {
    let flags = (dup ? 0x08 : 0) | qos.rawValue << 1 | (retain ? 1 : 0)
    packet(out, .publish, flags: flags) {
      string(out, topic)
      if qos != .atMostOnce { out.appendBigEndian(packetIdentifier) }
      if version.hasProperties { propertyBlock(out, properties) }
      out.append(payload)
    }
  }

  // MARK: Client to server (tests, benchmarks, the fuzz harness's round trips)

  /// CONNECT.
  public static func connect(
    _ out: ByteBuffer, version: ProtocolVersion, clientIdentifier: UnsafeRawBufferPointer, cleanStart: Bool = true,
    keepAliveSeconds: UInt16 = 60, userName: UnsafeRawBufferPointer? = nil, password: UnsafeRawBufferPointer? = nil,
    will: (topic: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, qos: QoS, retain: Bool)? = nil,
    properties: (inout PropertyWriter) -> Void = { _ in },
    willProperties: (inout PropertyWriter) -> Void = { _ in }
  ) {
    packet(out, .connect, flags: 0) {
      let name = version == .v3_1 ? "MQIsdp" : "MQTT"
      out.appendBigEndian(UInt16(name.utf8.count))
      for b in name.utf8 { out.appendByte(b) }
      out.appendByte(version.rawValue)
      var flags: UInt8 = cleanStart ? 0x02 : 0
      if let will { flags |= 0x04 | will.qos.rawValue << 3 | (will.retain ? 0x20 : 0) }
      if password != nil { flags |= 0x40 }
      if userName != nil { flags |= 0x80 }
      out.appendByte(flags)
      out.appendBigEndian(keepAliveSeconds)
      if version.hasProperties { propertyBlock(out, properties) }
      string(out, clientIdentifier)
      if let will {
        if version.hasProperties { propertyBlock(out, willProperties) }
        string(out, will.topic)
        string(out, will.payload)
      }
      if let userName { string(out, userName) }
      if let password { string(out, password) }
    }
  }

  /// SUBSCRIBE with each filter's options; `subscriptionIdentifier` (5.0) names the subscription
  /// in the PUBLISHes it delivers.
  public static func subscribe(
    _ out: ByteBuffer, version: ProtocolVersion, packetIdentifier: UInt16,
    filters: [(filter: UnsafeRawBufferPointer, options: SubscriptionOptions)], subscriptionIdentifier: Int? = nil
  ) {
    packet(out, .subscribe, flags: 0b0010) {
      out.appendBigEndian(packetIdentifier)
      if version.hasProperties {
        propertyBlock(out) { p in
          if let subscriptionIdentifier { p.varint(PropertyID.subscriptionIdentifier, subscriptionIdentifier) }
        }
      }
      for f in filters {
        string(out, f.filter)
        out.appendByte(f.options.byte)
      }
    }
  }

  /// UNSUBSCRIBE.
  public static func unsubscribe(
    _ out: ByteBuffer, version: ProtocolVersion, packetIdentifier: UInt16, filters: [UnsafeRawBufferPointer]
  ) {
    packet(out, .unsubscribe, flags: 0b0010) {
      out.appendBigEndian(packetIdentifier)
      if version.hasProperties { out.appendByte(0) }
      for f in filters { string(out, f) }
    }
  }

  public static func pingreq(_ out: ByteBuffer) {
    out.appendByte(PacketType.pingreq.rawValue << 4)
    out.appendByte(0)
  }

  // MARK: Pieces

  /// A string or binary field: two-byte length, then the bytes (at most 65,535; longer is cut,
  /// which the callers' limits never reach).
  static func string(_ out: ByteBuffer, _ bytes: UnsafeRawBufferPointer) {
    let n = min(bytes.count, 65_535)
    out.appendBigEndian(UInt16(n))
    out.append(UnsafeRawBufferPointer(rebasing: bytes[0..<n]))
  }

  /// The size of `value` as a Variable Byte Integer.
  public static func varintSize(_ value: Int) -> Int {
    value < 128 ? 1 : value < 16_384 ? 2 : value < 2_097_152 ? 3 : 4
  }

  static func appendVarint(_ out: ByteBuffer, _ value: Int) {
    var v = value
    repeat {
      var b = UInt8(v & 0x7F)
      v >>= 7
      if v > 0 { b |= 0x80 }
      out.appendByte(b)
    } while v > 0
  }

  /// Writes `body` after a Variable Byte Integer of its length.
  static func withLength(_ out: ByteBuffer, _ body: () -> Void) {
    let mark = out.count
    out.reserve(4)
    out.count += 4
    body()
    let length = out.count - mark - 4
    let n = varintSize(length)
    let bodyStart = out.base + mark + 4
    var v = length
    for k in 0..<n {
      var b = UInt8(v & 0x7F)
      v >>= 7
      if k < n - 1 { b |= 0x80 }
      out.base.storeBytes(of: b, toByteOffset: mark + k, as: UInt8.self)
    }
    if n < 4 {
      (out.base + mark + n).copyMemory(from: bodyStart, byteCount: length)
      out.count -= 4 - n
    }
  }

  static func packet(_ out: ByteBuffer, _ type: PacketType, flags: UInt8, _ body: () -> Void) {
    out.appendByte(type.rawValue << 4 | flags)
    withLength(out, body)
  }

  static func propertyBlock(_ out: ByteBuffer, _ properties: (inout PropertyWriter) -> Void) {
    withLength(out) {
      var writer = PropertyWriter(out: out)
      properties(&writer)
    }
  }
}

/// Writes 5.0 properties into a packet being encoded.
public struct PropertyWriter {
  let out: ByteBuffer

  public mutating func byte(_ id: Int, _ value: UInt8) {
    out.appendByte(UInt8(id))
    out.appendByte(value)
  }

  public mutating func uint16(_ id: Int, _ value: UInt16) {
    out.appendByte(UInt8(id))
    out.appendBigEndian(value)
  }

  public mutating func uint32(_ id: Int, _ value: UInt32) {
    out.appendByte(UInt8(id))
    out.appendBigEndian(value)
  }

  public mutating func varint(_ id: Int, _ value: Int) {
    out.appendByte(UInt8(id))
    Encoder.appendVarint(out, value)
  }

  /// A string or binary property.
  public mutating func string(_ id: Int, _ value: UnsafeRawBufferPointer) {
    out.appendByte(UInt8(id))
    Encoder.string(out, value)
  }

  public mutating func userProperty(_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) {
    out.appendByte(UInt8(PropertyID.userProperty))
    Encoder.string(out, name)
    Encoder.string(out, value)
  }
}
