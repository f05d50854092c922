/// A CONNECT (MQTT 3.1.1 section 3.1, 5.0 section 3.1):
///
///     variable header  protocol name (string "MQTT"; "MQIsdp" for 3.1), protocol level (byte:
///                      3, 4 or 5), connect flags (byte), keep alive (two bytes, seconds),
///                      5.0: properties
///     connect flags    bit 7 user name, 6 password, 5 will retain, 4-3 will QoS, 2 will,
///                      1 clean session (5.0: clean start), 0 reserved (must be 0)
///     payload          client identifier (string), then if the will flag is set: 5.0 will
///                      properties, will topic (string), will payload (binary); then the user
///                      name (string) and the password (binary) if their flags are set
public struct Connect {
  public var version: ProtocolVersion
  public var cleanStart: Bool
  public var keepAliveSeconds: UInt16
  public var properties: Properties
  public var clientIdentifier: UnsafeRawBufferPointer
  public var will: Will?
  public var userName: UnsafeRawBufferPointer?
  public var password: UnsafeRawBufferPointer?
}

/// The message a CONNECT leaves for the server to publish when the connection ends without a
/// DISCONNECT.
public struct Will {
  public var qos: QoS
  public var retain: Bool
  public var properties: Properties
  public var topic: UnsafeRawBufferPointer
  public var payload: UnsafeRawBufferPointer
}

/// A PUBLISH (3.1.1 section 3.3, 5.0 section 3.3):
///
///     fixed header flags  bit 3 DUP, bits 2-1 QoS, bit 0 RETAIN
///     variable header     topic name (string, no wildcards), packet identifier (two bytes,
///                         not 0) when QoS > 0, 5.0: properties
///     payload             the rest of the packet (may be empty)
public struct Publish {
  public var dup: Bool
  public var qos: QoS
  public var retain: Bool
  /// Empty only in 5.0 with a topic alias, which names the topic instead.
  public var topic: UnsafeRawBufferPointer
  /// 0 at QoS 0.
  public var packetIdentifier: UInt16
  public var properties: Properties
  public var payload: UnsafeRawBufferPointer
}

/// PUBACK, PUBREC, PUBREL or PUBCOMP (3.1.1 sections 3.4-3.7, 5.0 sections 3.4-3.7):
///
///     packet identifier (two bytes, not 0); 5.0 only, when the remaining length allows: reason
///     code (byte; success when absent), properties (absent below a remaining length of 4)
public struct Ack {
  public var type: PacketType
  public var packetIdentifier: UInt16
  public var reason: ReasonCode
  public var properties: Properties
}

/// Subscription options (5.0 section 3.8.3.1; 3.1.1 has the QoS bits only):
///
///     bits 1-0 maximum QoS, bit 2 no local, bit 3 retain as published, bits 5-4 retain
///     handling (0 send retained on subscribe, 1 only if the subscription is new, 2 never),
///     bits 7-6 reserved
public struct SubscriptionOptions: Equatable, Sendable {
  public var qos: QoS
  public var noLocal: Bool
  public var retainAsPublished: Bool
  public var retainHandling: UInt8

  public init(qos: QoS, noLocal: Bool = false, retainAsPublished: Bool = false, retainHandling: UInt8 = 0) {
    self.qos = qos
    self.noLocal = noLocal
    self.retainAsPublished = retainAsPublished
    self.retainHandling = retainHandling
  }

  public var byte: UInt8 {
    qos.rawValue | (noLocal ? 0x04 : 0) | (retainAsPublished ? 0x08 : 0) | retainHandling << 4
  }

  static func read(_ b: UInt8, version: ProtocolVersion) throws(WireError) -> SubscriptionOptions {
    guard let qos = QoS(rawValue: b & 0x03) else { throw .malformed("a subscription with QoS 3") }
    guard version.hasProperties else {
      guard b & 0xFC == 0 else { throw .malformed("reserved bits set in a subscription's options") }
      return SubscriptionOptions(qos: qos)
    }
    guard b & 0xC0 == 0 else { throw .malformed("reserved bits set in a subscription's options") }
    let handling = (b >> 4) & 0x03
    guard handling != 3 else { throw .protocolError("retain handling 3") }
    return SubscriptionOptions(
      qos: qos, noLocal: b & 0x04 != 0, retainAsPublished: b & 0x08 != 0, retainHandling: handling)
  }
}

/// A SUBSCRIBE (3.1.1 section 3.8, 5.0 section 3.8):
///
///     packet identifier (two bytes, not 0), 5.0: properties; payload: one or more pairs of a
///     topic filter (string) and its options (byte)
public struct Subscribe {
  public var packetIdentifier: UInt16
  public var properties: Properties
  /// How many filters the payload holds.
  public var count: Int
  public var version: ProtocolVersion
  /// The payload, checked: ``forEach(_:)`` reads it again.
  public var payload: UnsafeRawBufferPointer

  /// Each topic filter with its options, in order.
  public func forEach(_ body: (UnsafeRawBufferPointer, SubscriptionOptions) -> Void) {
    var r = WireReader(payload)
    while !r.isAtEnd {
      guard let filter = try? r.binary(), let b = try? r.byte(),
        let o = try? SubscriptionOptions.read(b, version: version)
      else { return }
      body(filter, o)
    }
  }
}

/// An UNSUBSCRIBE (3.1.1 section 3.10, 5.0 section 3.10): packet identifier (two bytes, not 0),
/// 5.0: properties; payload: one or more topic filters (strings).
public struct Unsubscribe {
  public var packetIdentifier: UInt16
  public var properties: Properties
  public var count: Int
  public var payload: UnsafeRawBufferPointer

  public func forEach(_ body: (UnsafeRawBufferPointer) -> Void) {
    var r = WireReader(payload)
    while !r.isAtEnd {
      guard let filter = try? r.binary() else { return }
      body(filter)
    }
  }
}

/// A CONNACK (3.1.1 section 3.2, 5.0 section 3.2): acknowledge flags (byte; bit 0 session
/// present), return code (3.1.1) or reason code (5.0), 5.0: properties.
public struct ConnAck {
  public var sessionPresent: Bool
  /// 3.1.1: the return code (0-5) in `rawValue`.
  public var reason: ReasonCode
  public var properties: Properties
}

/// A SUBACK (3.1.1 section 3.9, 5.0 section 3.9) or UNSUBACK (section 3.11): packet identifier,
/// 5.0: properties; payload: one reason code per filter (an UNSUBACK has none in 3.1.1).
public struct SubAck {
  public var type: PacketType
  public var packetIdentifier: UInt16
  public var properties: Properties
  public var reasons: UnsafeRawBufferPointer
}

/// A DISCONNECT (3.1.1 section 3.14: empty; 5.0 section 3.14: reason code and properties, both
/// optional) or an AUTH (5.0 section 3.15, the same layout).
public struct Disconnect {
  public var type: PacketType
  public var reason: ReasonCode
  public var properties: Properties
}

/// One decoded packet; its views point into the bytes it was decoded from.
public enum Packet {
  case connect(Connect)
  case connack(ConnAck)
  case publish(Publish)
  /// PUBACK, PUBREC, PUBREL, PUBCOMP.
  case ack(Ack)
  case subscribe(Subscribe)
  /// SUBACK, UNSUBACK.
  case subAck(SubAck)
  case unsubscribe(Unsubscribe)
  case pingreq
  case pingresp
  /// DISCONNECT, AUTH.
  case disconnect(Disconnect)

  /// Decodes the packet `header` frames, whose whole bytes (fixed header included) are `packet`.
  /// `version` is the connection's (from its CONNECT; a CONNECT decodes its own). Total: any
  /// bytes give a packet or a ``WireError`` with the reason code to close the connection with.
  public static func decode(
    _ header: FixedHeader, _ packet: UnsafeRawBufferPointer, version: ProtocolVersion
  ) throws(WireError) -> Packet {
    let body = UnsafeRawBufferPointer(rebasing: packet[header.headerLength..<header.packetLength])
    var r = WireReader(body)
    let v5 = version.hasProperties
    switch header.type {
    case .connect:
      return .connect(try decodeConnect(&r))
    case .connack:
      let flags = try r.byte()
      guard flags & 0xFE == 0 else { throw .malformed("reserved CONNACK flags set") }
      let code = try r.byte()
      let properties = v5 ? try PropertyID.read(&r, allowed: .connack) : Properties()
      try end(r)
      return .connack(ConnAck(sessionPresent: flags & 1 != 0, reason: ReasonCode(code), properties: properties))
    case .publish:
      return .publish(try decodePublish(header.flags, &r, version: version, allowed: .publishFromClient))
    case .puback, .pubrec, .pubrel, .pubcomp:
      let id = try packetIdentifier(&r)
      var reason = ReasonCode.success
      var properties = Properties()
      if v5 {
        if !r.isAtEnd { reason = ReasonCode(try r.byte()) }
        if !r.isAtEnd { properties = try PropertyID.read(&r, allowed: .ack) }
      }
      try end(r)
      return .ack(Ack(type: header.type, packetIdentifier: id, reason: reason, properties: properties))
    case .subscribe:
      let id = try packetIdentifier(&r)
      let properties = v5 ? try PropertyID.read(&r, allowed: .subscribe) : Properties()
      let payload = r.rest()
      var p = WireReader(payload)
      var count = 0
      while !p.isAtEnd {
        _ = try p.string()
        _ = try SubscriptionOptions.read(try p.byte(), version: version)
        count += 1
      }
      guard count > 0 else { throw .protocolError("a SUBSCRIBE without a topic filter") }
      return .subscribe(
        Subscribe(packetIdentifier: id, properties: properties, count: count, version: version, payload: payload))
    case .suback, .unsuback:
      let id = try packetIdentifier(&r)
      let properties = v5 ? try PropertyID.read(&r, allowed: .ack) : Properties()
      return .subAck(SubAck(type: header.type, packetIdentifier: id, properties: properties, reasons: r.rest()))
    case .unsubscribe:
      let id = try packetIdentifier(&r)
      let properties = v5 ? try PropertyID.read(&r, allowed: .unsubscribe) : Properties()
      let payload = r.rest()
      var p = WireReader(payload)
      var count = 0
      while !p.isAtEnd {
        _ = try p.string()
        count += 1
      }
      guard count > 0 else { throw .protocolError("an UNSUBSCRIBE without a topic filter") }
      return .unsubscribe(Unsubscribe(packetIdentifier: id, properties: properties, count: count, payload: payload))
    case .pingreq, .pingresp:
      try end(r)
      return header.type == .pingreq ? .pingreq : .pingresp
    case .disconnect, .auth:
      guard v5 || header.type == .disconnect else { throw .protocolError("AUTH is MQTT 5.0 only") }
      var reason = ReasonCode.success
      var properties = Properties()
      if v5 {
        if !r.isAtEnd { reason = ReasonCode(try r.byte()) }
        if !r.isAtEnd { properties = try PropertyID.read(&r, allowed: header.type == .auth ? .auth : .disconnect) }
      }
      try end(r)
      return .disconnect(Disconnect(type: header.type, reason: reason, properties: properties))
    }
  }

  static func end(_ r: WireReader) throws(WireError) {
    guard r.isAtEnd else { throw .malformed("bytes after the end of the packet") }
  }

  static func packetIdentifier(_ r: inout WireReader) throws(WireError) -> UInt16 {
    let id = try r.uint16()
    guard id != 0 else { throw .protocolError("packet identifier 0") }
    return id
  }

  /// A PUBLISH's variable header and payload; `allowed` says which properties its sender may use.
  public static func decodePublish(
    _ flags: UInt8, _ r: inout WireReader, version: ProtocolVersion, allowed: PropertyID.Allowed
  ) throws(WireError) -> Publish {
    guard let qos = QoS(rawValue: (flags >> 1) & 0x03) else { throw .malformed("PUBLISH with QoS 3") }
    let dup = flags & 0x08 != 0
    guard qos != .atMostOnce || !dup else { throw .protocolError("DUP set on a QoS 0 PUBLISH") }
    let topic = try r.string()
    for b in topic where b == UInt8(ascii: "+") || b == UInt8(ascii: "#") {
      throw WireError(.topicNameInvalid, "a wildcard in a PUBLISH's topic name")
    }
    let id = qos == .atMostOnce ? 0 : try packetIdentifier(&r)
    let properties = version.hasProperties ? try PropertyID.read(&r, allowed: allowed) : Properties()
    if topic.isEmpty && properties.topicAlias == nil {
      throw WireError(.topicNameInvalid, "a PUBLISH without a topic name")
    }
    if let utf8 = properties.payloadFormatIsUTF8, utf8 {
      let payload = r.rest()
      do throws(WireError) {
        try UTF8Check.validate(payload)
      } catch {
        throw WireError(.payloadFormatInvalid, "a payload marked UTF-8 is not")
      }
      return Publish(
        dup: dup, qos: qos, retain: flags & 1 != 0, topic: topic, packetIdentifier: id, properties: properties,
        payload: payload)
    }
    return Publish(
      dup: dup, qos: qos, retain: flags & 1 != 0, topic: topic, packetIdentifier: id, properties: properties,
      payload: r.rest())
  }

  static func decodeConnect(_ r: inout WireReader) throws(WireError) -> Connect {
    let name = try r.string()
    let level = try r.byte()
    let isMQTT = name.elementsEqual("MQTT".utf8)
    let isMQIsdp = name.elementsEqual("MQIsdp".utf8)
    guard isMQTT || isMQIsdp else { throw .protocolError("the protocol name is neither MQTT nor MQIsdp") }
    guard let version = ProtocolVersion(rawValue: level), (version == .v3_1) == isMQIsdp else {
      throw WireError(.unsupportedProtocolVersion, "a protocol level other than 3 (MQIsdp), 4 or 5 (MQTT)")
    }
    let flags = try r.byte()
    guard flags & 0x01 == 0 else { throw .malformed("the CONNECT's reserved flag is set") }
    let hasWill = flags & 0x04 != 0
    let willQoSBits = (flags >> 3) & 0x03
    let willRetain = flags & 0x20 != 0
    let hasPassword = flags & 0x40 != 0
    let hasUserName = flags & 0x80 != 0
    if !hasWill && (willQoSBits != 0 || willRetain) {
      throw .malformed("will QoS or retain set without a will")
    }
    guard let willQoS = QoS(rawValue: willQoSBits) else { throw .malformed("will QoS 3") }
    if version < .v5 && hasPassword && !hasUserName {
      throw .protocolError("a password without a user name (MQTT 3.1.1)")
    }
    let keepAlive = try r.uint16()
    let properties = version.hasProperties ? try PropertyID.read(&r, allowed: .connect) : Properties()
    let clientIdentifier = try r.string()
    var will: Will?
    if hasWill {
      let willProperties = version.hasProperties ? try PropertyID.read(&r, allowed: .will) : Properties()
      let topic = try r.string()
      guard !topic.isEmpty, !topic.contains(UInt8(ascii: "+")), !topic.contains(UInt8(ascii: "#")) else {
        throw WireError(.topicNameInvalid, "the will topic is empty or has a wildcard")
      }
      let payload = try r.binary()
      if willProperties.payloadFormatIsUTF8 == true {
        do throws(WireError) {
          try UTF8Check.validate(payload)
        } catch {
          throw WireError(.payloadFormatInvalid, "a will payload marked UTF-8 is not")
        }
      }
      will = Will(qos: willQoS, retain: willRetain, properties: willProperties, topic: topic, payload: payload)
    }
    let userName = hasUserName ? try r.string() : nil
    let password = hasPassword ? try r.binary() : nil
    try end(r)
    return Connect(
      version: version, cleanStart: flags & 0x02 != 0, keepAliveSeconds: keepAlive, properties: properties,
      clientIdentifier: clientIdentifier, will: will, userName: userName, password: password)
  }
}
