/// The MQTT control packet types (MQTT 3.1.1 section 2.2.1, MQTT 5.0 section 2.1.2): the high four
/// bits of a packet's first byte.
public enum PacketType: UInt8, Sendable, CaseIterable, CustomStringConvertible {
  case connect = 1
  case connack = 2
  case publish = 3
  case puback = 4
  case pubrec = 5
  case pubrel = 6
  case pubcomp = 7
  case subscribe = 8
  case suback = 9
  case unsubscribe = 10
  case unsuback = 11
  case pingreq = 12
  case pingresp = 13
  case disconnect = 14
  /// MQTT 5.0 only.
  case auth = 15

  /// The low four bits every packet but PUBLISH must carry: `0010` for PUBREL, SUBSCRIBE and
  /// UNSUBSCRIBE, `0000` for the rest (MQTT 5.0 table 2-2). PUBLISH's are DUP, QoS and RETAIN.
  public var requiredFlags: UInt8? {
    switch self {
    case .publish: nil
    case .pubrel, .subscribe, .unsubscribe: 0b0010
    default: 0
    }
  }

  /// The name as the specifications and `weir_listener_packets_total{type}` spell it.
  public var description: String {
    switch self {
    case .connect: "connect"
    case .connack: "connack"
    case .publish: "publish"
    case .puback: "puback"
    case .pubrec: "pubrec"
    case .pubrel: "pubrel"
    case .pubcomp: "pubcomp"
    case .subscribe: "subscribe"
    case .suback: "suback"
    case .unsubscribe: "unsubscribe"
    case .unsuback: "unsuback"
    case .pingreq: "pingreq"
    case .pingresp: "pingresp"
    case .disconnect: "disconnect"
    case .auth: "auth"
    }
  }
}

/// The protocol level a client asked for in its CONNECT.
public enum ProtocolVersion: UInt8, Sendable, Comparable, CustomStringConvertible {
  /// MQTT 3.1 (protocol name `MQIsdp`), read as 3.1.1.
  case v3_1 = 3
  case v3_1_1 = 4
  case v5 = 5

  public static func < (a: ProtocolVersion, b: ProtocolVersion) -> Bool { a.rawValue < b.rawValue }

  /// Whether packets carry MQTT 5.0's reason codes and properties.
  public var hasProperties: Bool { self == .v5 }

  public var description: String {
    switch self {
    case .v3_1: "3.1"
    case .v3_1_1: "3.1.1"
    case .v5: "5.0"
    }
  }
}

/// Quality of service of a PUBLISH or a subscription.
public enum QoS: UInt8, Sendable, Comparable {
  case atMostOnce = 0
  case atLeastOnce = 1
  case exactlyOnce = 2

  public static func < (a: QoS, b: QoS) -> Bool { a.rawValue < b.rawValue }
}
