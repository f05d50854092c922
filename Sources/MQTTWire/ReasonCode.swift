/// MQTT 5.0 reason codes (section 2.4): one byte in CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP,
/// SUBACK, UNSUBACK, DISCONNECT and AUTH; 0x80 and above are failures. A 3.1.1 peer gets the
/// nearest 3.1.1 code instead (``connackReturnCode``, SUBACK's 0x80) or just a closed connection.
public struct ReasonCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
  public var rawValue: UInt8
  public init(rawValue: UInt8) { self.rawValue = rawValue }
  public init(_ rawValue: UInt8) { self.rawValue = rawValue }

  public static let success = ReasonCode(0x00)
  /// DISCONNECT: normal disconnection (the same byte as success).
  public static let normalDisconnection = ReasonCode(0x00)
  /// SUBACK: granted QoS 0, 1, 2 (the same bytes as the QoS).
  public static let grantedQoS0 = ReasonCode(0x00)
  public static let grantedQoS1 = ReasonCode(0x01)
  public static let grantedQoS2 = ReasonCode(0x02)
  public static let disconnectWithWill = ReasonCode(0x04)
  public static let noMatchingSubscribers = ReasonCode(0x10)
  public static let noSubscriptionExisted = ReasonCode(0x11)
  public static let continueAuthentication = ReasonCode(0x18)
  public static let reAuthenticate = ReasonCode(0x19)
  public static let unspecifiedError = ReasonCode(0x80)
  public static let malformedPacket = ReasonCode(0x81)
  public static let protocolError = ReasonCode(0x82)
  public static let implementationSpecificError = ReasonCode(0x83)
  public static let unsupportedProtocolVersion = ReasonCode(0x84)
  public static let clientIdentifierNotValid = ReasonCode(0x85)
  public static let badUserNameOrPassword = ReasonCode(0x86)
  public static let notAuthorized = ReasonCode(0x87)
  public static let serverUnavailable = ReasonCode(0x88)
  public static let serverBusy = ReasonCode(0x89)
  public static let banned = ReasonCode(0x8A)
  public static let serverShuttingDown = ReasonCode(0x8B)
  public static let badAuthenticationMethod = ReasonCode(0x8C)
  public static let keepAliveTimeout = ReasonCode(0x8D)
  public static let sessionTakenOver = ReasonCode(0x8E)
  public static let topicFilterInvalid = ReasonCode(0x8F)
  public static let topicNameInvalid = ReasonCode(0x90)
  public static let packetIdentifierInUse = ReasonCode(0x91)
  public static let packetIdentifierNotFound = ReasonCode(0x92)
  public static let receiveMaximumExceeded = ReasonCode(0x93)
  public static let topicAliasInvalid = ReasonCode(0x94)
  public static let packetTooLarge = ReasonCode(0x95)
  public static let messageRateTooHigh = ReasonCode(0x96)
  public static let quotaExceeded = ReasonCode(0x97)
  public static let administrativeAction = ReasonCode(0x98)
  public static let payloadFormatInvalid = ReasonCode(0x99)
  public static let retainNotSupported = ReasonCode(0x9A)
  public static let qosNotSupported = ReasonCode(0x9B)
  public static let useAnotherServer = ReasonCode(0x9C)
  public static let serverMoved = ReasonCode(0x9D)
  public static let sharedSubscriptionsNotSupported = ReasonCode(0x9E)
  public static let connectionRateExceeded = ReasonCode(0x9F)
  public static let maximumConnectTime = ReasonCode(0xA0)
  public static let subscriptionIdentifiersNotSupported = ReasonCode(0xA1)
  public static let wildcardSubscriptionsNotSupported = ReasonCode(0xA2)

  public var isFailure: Bool { rawValue >= 0x80 }

  /// The CONNACK return code a 3.1.1 client understands (MQTT 3.1.1 table 3.1): 1 unacceptable
  /// protocol version, 2 identifier rejected, 3 server unavailable, 4 bad user name or password,
  /// 5 not authorized.
  public var connackReturnCode: UInt8 {
    switch self {
    case .success: 0
    case .unsupportedProtocolVersion: 1
    case .clientIdentifierNotValid: 2
    case .badUserNameOrPassword, .badAuthenticationMethod: 4
    case .notAuthorized, .banned: 5
    default: 3
    }
  }

  /// The metric label of a failure (`weir_listener_rejected_total{reason}`).
  public var description: String {
    switch rawValue {
    case 0x00: "success"
    case 0x01: "granted_qos1"
    case 0x02: "granted_qos2"
    case 0x04: "disconnect_with_will"
    case 0x10: "no_matching_subscribers"
    case 0x11: "no_subscription_existed"
    case 0x18: "continue_authentication"
    case 0x19: "re_authenticate"
    case 0x80: "unspecified_error"
    case 0x81: "malformed_packet"
    case 0x82: "protocol_error"
    case 0x83: "implementation_specific_error"
    case 0x84: "unsupported_protocol_version"
    case 0x85: "client_identifier_not_valid"
    case 0x86: "bad_user_name_or_password"
    case 0x87: "not_authorized"
    case 0x88: "server_unavailable"
    case 0x89: "server_busy"
    case 0x8A: "banned"
    case 0x8B: "server_shutting_down"
    case 0x8C: "bad_authentication_method"
    case 0x8D: "keep_alive_timeout"
    case 0x8E: "session_taken_over"
    case 0x8F: "topic_filter_invalid"
    case 0x90: "topic_name_invalid"
    case 0x91: "packet_identifier_in_use"
    case 0x92: "packet_identifier_not_found"
    case 0x93: "receive_maximum_exceeded"
    case 0x94: "topic_alias_invalid"
    case 0x95: "packet_too_large"
    case 0x96: "message_rate_too_high"
    case 0x97: "quota_exceeded"
    case 0x98: "administrative_action"
    case 0x99: "payload_format_invalid"
    case 0x9A: "retain_not_supported"
    case 0x9B: "qos_not_supported"
    case 0x9C: "use_another_server"
    case 0x9D: "server_moved"
    case 0x9E: "shared_subscriptions_not_supported"
    case 0x9F: "connection_rate_exceeded"
    case 0xA0: "maximum_connect_time"
    case 0xA1: "subscription_identifiers_not_supported"
    case 0xA2: "wildcard_subscriptions_not_supported"
    default: "reason_0x" + String(rawValue, radix: 16)
    }
  }
}

/// Why a packet could not be read: the reason code the connection is closed with (a DISCONNECT
/// carrying it for a 5.0 client) and a fixed message for the log.
public struct WireError: Error, Equatable, Sendable, CustomStringConvertible {
  public var reason: ReasonCode
  public var message: StaticString

  public init(_ reason: ReasonCode, _ message: StaticString) {
    self.reason = reason
    self.message = message
  }

  static func malformed(_ message: StaticString) -> WireError { WireError(.malformedPacket, message) }
  static func protocolError(_ message: StaticString) -> WireError { WireError(.protocolError, message) }

  public static func == (a: WireError, b: WireError) -> Bool {
    a.reason == b.reason && a.message.description == b.message.description
  }

  public var description: String { "\(reason): \(message)" }
}
