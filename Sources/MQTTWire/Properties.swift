/// MQTT 5.0 properties (section 2.2.2): a Variable Byte Integer length, then properties, each an
/// identifier (a Variable Byte Integer, in practice one byte) and a value whose type the
/// identifier fixes:
///
///     byte         0x01 payload format, 0x17 request problem info, 0x19 request response info,
///                  0x24 maximum QoS, 0x25 retain available, 0x28 wildcards, 0x29 subscription
///                  ids, 0x2A shared subscriptions available
///     four bytes   0x02 message expiry, 0x11 session expiry, 0x18 will delay, 0x27 maximum
///                  packet size
///     two bytes    0x13 server keep alive, 0x21 receive maximum, 0x22 topic alias maximum,
///                  0x23 topic alias
///     varint       0x0B subscription identifier
///     string       0x03 content type, 0x08 response topic, 0x12 assigned client id, 0x15
///                  authentication method, 0x1A response information, 0x1C server reference,
///                  0x1F reason string
///     binary       0x09 correlation data, 0x16 authentication data
///     string pair  0x26 user property (any number of them)
///
/// A property not allowed in the packet, one given twice (but user properties, and a
/// PUBLISH's subscription identifiers), or an out-of-range value is a protocol error. The values
/// are views into the packet, valid while its bytes are.
public struct Properties {
  public var payloadFormatIsUTF8: Bool?
  public var messageExpiryInterval: UInt32?
  public var contentType: UnsafeRawBufferPointer?
  public var responseTopic: UnsafeRawBufferPointer?
  public var correlationData: UnsafeRawBufferPointer?
  /// The first subscription identifier (a SUBSCRIBE has at most one; a PUBLISH to a client may
  /// carry several: ``all``).
  public var subscriptionIdentifier: Int?
  public var sessionExpiryInterval: UInt32?
  public var assignedClientIdentifier: UnsafeRawBufferPointer?
  public var serverKeepAlive: UInt16?
  public var authenticationMethod: UnsafeRawBufferPointer?
  public var authenticationData: UnsafeRawBufferPointer?
  public var requestProblemInformation: Bool?
  public var willDelayInterval: UInt32?
  public var requestResponseInformation: Bool?
  public var responseInformation: UnsafeRawBufferPointer?
  public var serverReference: UnsafeRawBufferPointer?
  public var reasonString: UnsafeRawBufferPointer?
  public var receiveMaximum: UInt16?
  public var topicAliasMaximum: UInt16?
  public var topicAlias: UInt16?
  public var maximumQoS: UInt8?
  public var retainAvailable: Bool?
  public var maximumPacketSize: UInt32?
  public var wildcardSubscriptionAvailable: Bool?
  public var subscriptionIdentifiersAvailable: Bool?
  public var sharedSubscriptionAvailable: Bool?
  /// How many user properties there are.
  public var userPropertyCount = 0
  /// The whole property block (without its length), for ``userProperties`` and ``all``.
  public var raw = UnsafeRawBufferPointer(start: nil, count: 0)

  public init() {}

  /// The user properties in order, as (name, value) views.
  public func forEachUserProperty(_ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void) {
    guard userPropertyCount > 0 else { return }
    var r = WireReader(raw)
    while !r.isAtEnd {
      // The block was checked when it was read: these reads cannot fail.
      guard let id = try? r.varint() else { return }
      if id == PropertyID.userProperty {
        guard let name = try? r.binary(), let value = try? r.binary() else { return }
        body(name, value)
      } else if (try? PropertyID.skip(id, &r)) == nil {
        return
      }
    }
  }

  /// Every subscription identifier, in order (a PUBLISH delivered for several subscriptions).
  public func forEachSubscriptionIdentifier(_ body: (Int) -> Void) {
    guard subscriptionIdentifier != nil else { return }
    var r = WireReader(raw)
    while !r.isAtEnd {
      guard let id = try? r.varint() else { return }
      if id == PropertyID.subscriptionIdentifier {
        guard let value = try? r.varint() else { return }
        body(value)
      } else if (try? PropertyID.skip(id, &r)) == nil {
        return
      }
    }
  }
}

/// Property identifiers and which packet may carry which.
public enum PropertyID {
  public static let payloadFormatIndicator = 0x01
  public static let messageExpiryInterval = 0x02
  public static let contentType = 0x03
  public static let responseTopic = 0x08
  public static let correlationData = 0x09
  public static let subscriptionIdentifier = 0x0B
  public static let sessionExpiryInterval = 0x11
  public static let assignedClientIdentifier = 0x12
  public static let serverKeepAlive = 0x13
  public static let authenticationMethod = 0x15
  public static let authenticationData = 0x16
  public static let requestProblemInformation = 0x17
  public static let willDelayInterval = 0x18
  public static let requestResponseInformation = 0x19
  public static let responseInformation = 0x1A
  public static let serverReference = 0x1C
  public static let reasonString = 0x1F
  public static let receiveMaximum = 0x21
  public static let topicAliasMaximum = 0x22
  public static let topicAlias = 0x23
  public static let maximumQoS = 0x24
  public static let retainAvailable = 0x25
  public static let userProperty = 0x26
  public static let maximumPacketSize = 0x27
  public static let wildcardSubscriptionAvailable = 0x28
  public static let subscriptionIdentifierAvailable = 0x29
  public static let sharedSubscriptionAvailable = 0x2A

  /// The properties a packet (or a CONNECT's will) may carry, as a bit set over identifiers
  /// (MQTT 5.0 table 2-4).
  public struct Allowed: Sendable {
    public let bits: UInt64
    /// Whether the subscription identifier may repeat (a PUBLISH sent to a client).
    public let repeatsSubscriptionIdentifier: Bool

    init(_ ids: [Int], repeatsSubscriptionIdentifier: Bool = false) {
      bits = ids.reduce(0) { $0 | 1 << UInt64($1) }
      self.repeatsSubscriptionIdentifier = repeatsSubscriptionIdentifier
    }

    func contains(_ id: Int) -> Bool { id < 64 && bits & (1 << UInt64(id)) != 0 }

    public static let connect = Allowed([0x11, 0x15, 0x16, 0x17, 0x19, 0x21, 0x22, 0x26, 0x27])
    public static let will = Allowed([0x01, 0x02, 0x03, 0x08, 0x09, 0x18, 0x26])
    public static let connack = Allowed([
      0x11, 0x12, 0x13, 0x15, 0x16, 0x1A, 0x1C, 0x1F, 0x21, 0x22, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2A,
    ])
    /// A PUBLISH from a client: MQTT 5.0 3.3.4 forbids it a subscription identifier.
    public static let publishFromClient = Allowed([0x01, 0x02, 0x03, 0x08, 0x09, 0x23, 0x26])
    public static let publishToClient = Allowed(
      [0x01, 0x02, 0x03, 0x08, 0x09, 0x0B, 0x23, 0x26], repeatsSubscriptionIdentifier: true)
    public static let ack = Allowed([0x1F, 0x26])
    public static let subscribe = Allowed([0x0B, 0x26])
    public static let unsubscribe = Allowed([0x26])
    public static let disconnect = Allowed([0x11, 0x1C, 0x1F, 0x26])
    public static let auth = Allowed([0x15, 0x16, 0x1F, 0x26])
  }

  /// Steps over one property's value.
  static func skip(_ id: Int, _ r: inout WireReader) throws(WireError) {
    switch id {
    case 0x01, 0x17, 0x19, 0x24, 0x25, 0x28, 0x29, 0x2A: _ = try r.byte()
    case 0x13, 0x21, 0x22, 0x23: _ = try r.uint16()
    case 0x02, 0x11, 0x18, 0x27: _ = try r.uint32()
    case 0x0B: _ = try r.varint()
    case 0x03, 0x08, 0x12, 0x15, 0x1A, 0x1C, 0x1F, 0x09, 0x16: _ = try r.binary()
    case 0x26:
      _ = try r.binary()
      _ = try r.binary()
    default: throw .malformed("an unknown property identifier")
    }
  }

  /// Reads a property block (its length first) at the reader's position.
  public static func read(_ r: inout WireReader, allowed: Allowed) throws(WireError) -> Properties {
    let length = try r.varint()
    let block = try r.bytes(length)
    var p = Properties()
    p.raw = block
    var seen: UInt64 = 0
    var b = WireReader(block)
    while !b.isAtEnd {
      let id = try b.varint()
      guard id < 64, allowed.contains(id) else {
        if id < 64, (0x01...0x2A).contains(id) { throw .protocolError("a property this packet may not carry") }
        throw .malformed("an unknown property identifier")
      }
      let bit: UInt64 = 1 << UInt64(id)
      let repeats = id == userProperty || (id == subscriptionIdentifier && allowed.repeatsSubscriptionIdentifier)
      if seen & bit != 0 && !repeats { throw .protocolError("a property given twice") }
      seen |= bit
      switch id {
      case payloadFormatIndicator: p.payloadFormatIsUTF8 = try flag(&b)
      case messageExpiryInterval: p.messageExpiryInterval = try b.uint32()
      case contentType: p.contentType = try b.string()
      case responseTopic: p.responseTopic = try b.string()
      case correlationData: p.correlationData = try b.binary()
      case subscriptionIdentifier:
        let v = try b.varint()
        guard v > 0 else { throw .protocolError("subscription identifier 0") }
        if p.subscriptionIdentifier == nil { p.subscriptionIdentifier = v }
      case sessionExpiryInterval: p.sessionExpiryInterval = try b.uint32()
      case assignedClientIdentifier: p.assignedClientIdentifier = try b.string()
      case serverKeepAlive: p.serverKeepAlive = try b.uint16()
      case authenticationMethod: p.authenticationMethod = try b.string()
      case authenticationData: p.authenticationData = try b.binary()
      case requestProblemInformation: p.requestProblemInformation = try flag(&b)
      case willDelayInterval: p.willDelayInterval = try b.uint32()
      case requestResponseInformation: p.requestResponseInformation = try flag(&b)
      case responseInformation: p.responseInformation = try b.string()
      case serverReference: p.serverReference = try b.string()
      case reasonString: p.reasonString = try b.string()
      case receiveMaximum:
        let v = try b.uint16()
        guard v > 0 else { throw .protocolError("receive maximum 0") }
        p.receiveMaximum = v
      case topicAliasMaximum: p.topicAliasMaximum = try b.uint16()
      case topicAlias:
        let v = try b.uint16()
        guard v > 0 else { throw .protocolError("topic alias 0") }
        p.topicAlias = v
      case maximumQoS:
        let v = try b.byte()
        guard v <= 1 else { throw .protocolError("maximum QoS other than 0 or 1") }
        p.maximumQoS = v
      case retainAvailable: p.retainAvailable = try flag(&b)
      case userProperty:
        _ = try b.string()
        _ = try b.string()
        p.userPropertyCount += 1
      case maximumPacketSize:
        let v = try b.uint32()
        guard v > 0 else { throw .protocolError("maximum packet size 0") }
        p.maximumPacketSize = v
      case wildcardSubscriptionAvailable: p.wildcardSubscriptionAvailable = try flag(&b)
      case subscriptionIdentifierAvailable: p.subscriptionIdentifiersAvailable = try flag(&b)
      case sharedSubscriptionAvailable: p.sharedSubscriptionAvailable = try flag(&b)
      default: throw .malformed("an unknown property identifier")
      }
    }
    return p
  }

  static func flag(_ r: inout WireReader) throws(WireError) -> Bool {
    switch try r.byte() {
    case 0: return false
    case 1: return true
    default: throw .protocolError("a yes/no property other than 0 or 1")
    }
  }
}
