/// How to reach an MQTT broker. Turned into libmosquitto settings only by ``MosquittoClient``.
public struct MQTTClientConfig: Sendable, Equatable {
  public enum ProtocolVersion: String, Sendable { case v311 = "3.1.1", v5 = "5" }

  /// TLS settings for `mqtts://`.
  public struct TLS: Sendable, Equatable {
    /// CA certificate file (PEM) that signed the broker's certificate.
    public var caFile: String
    /// Client certificate and key (PEM) when the broker requires them. Default: none.
    public var certFile: String?
    public var keyFile: String?
    /// `tlsv1.2` or `tlsv1.3`. Default: the library's choice.
    public var version: String?
    /// Skip host name verification (testing only). Default: false.
    public var insecure: Bool

    public init(caFile: String, certFile: String? = nil, keyFile: String? = nil, version: String? = nil, insecure: Bool = false) {
      self.caFile = caFile
      self.certFile = certFile
      self.keyFile = keyFile
      self.version = version
      self.insecure = insecure
    }
  }

  public var host: String
  public var port: Int
  /// Stable across restarts so the broker keeps the session. Default: set by the caller.
  public var clientID: String
  public var username: String?
  public var password: String?
  /// Seconds. Default: 30.
  public var keepalive: Int
  /// Default: 3.1.1.
  public var protocolVersion: ProtocolVersion
  /// Default: false: a persistent session, so the broker queues QoS 1 messages while we are away.
  public var cleanSession: Bool
  public var tls: TLS?
  /// Unacknowledged QoS 1/2 messages the client sends (and, with MQTT 5, receives) at once. Default: 1000.
  public var maxInflight: Int

  public init(
    host: String, port: Int, clientID: String, username: String? = nil, password: String? = nil,
    keepalive: Int = 30, protocolVersion: ProtocolVersion = .v311, cleanSession: Bool = false, tls: TLS? = nil,
    maxInflight: Int = 1000
  ) {
    self.host = host
    self.port = port
    self.clientID = clientID
    self.username = username
    self.password = password
    self.keepalive = keepalive
    self.protocolVersion = protocolVersion
    self.cleanSession = cleanSession
    self.tls = tls
    self.maxInflight = maxInflight
  }

  /// Parses `mqtt://[user:pass@]host[:port]` (default port 1883) or `mqtts://...` (8883).
  public static func parseURL(_ url: String) -> (tls: Bool, host: String, port: Int, username: String?, password: String?)? {
    let tls: Bool
    var rest: Substring
    if url.hasPrefix("mqtt://") {
      tls = false
      rest = url.dropFirst(7)
    } else if url.hasPrefix("mqtts://") {
      tls = true
      rest = url.dropFirst(8)
    } else {
      return nil
    }
    if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
    var username: String?
    var password: String?
    if let at = rest.lastIndex(of: "@") {
      let credentials = rest[..<at]
      rest = rest[rest.index(after: at)...]
      if let colon = credentials.firstIndex(of: ":") {
        username = String(credentials[..<colon])
        password = String(credentials[credentials.index(after: colon)...])
      } else {
        username = String(credentials)
      }
    }
    var host = String(rest)
    var port = tls ? 8883 : 1883
    if let colon = rest.lastIndex(of: ":"), !rest.hasSuffix("]") {
      guard let p = Int(rest[rest.index(after: colon)...]), (1...65535).contains(p) else { return nil }
      port = p
      host = String(rest[..<colon])
    }
    if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    guard !host.isEmpty else { return nil }
    return (tls, host, port, username, password)
  }
}

/// An MQTT failure, with libmosquitto's own words.
public struct MQTTError: Error, CustomStringConvertible, Sendable {
  public var code: Int32
  public var message: String
  public init(code: Int32, message: String) {
    self.code = code
    self.message = message
  }
  public var description: String { message }
}

/// One received message, as views into libmosquitto's buffers: valid only during the callback.
public struct MQTTMessageView {
  public var topic: UnsafeRawBufferPointer
  public var payload: UnsafeRawBufferPointer
  public var qos: Int32
  public var retain: Bool
  public var mid: Int32
  /// MQTT 5 user properties (empty for 3.1.1, and allocated only when present).
  public var userProperties: [(String, String)]
}
