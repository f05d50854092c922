import MQTTWire
public import WeirCore

/// One MQTT listener of `weir run`: where it listens, its limits, and how what devices publish is
/// routed into the log (the same routes as the MQTT client source's subscriptions).
public struct ListenerConfig: Sendable {
  /// Names the listener in metrics, logs and status (`devices`).
  public var name: String
  /// The address to bind (`0.0.0.0`, `127.0.0.1`, `::`).
  public var host: String
  /// The TCP port; 0 picks a free one (tests; ``MQTTListener/boundPort`` tells which).
  public var port: Int
  /// Whether it listens without TLS at ``host``:``port`` (false: only ``tls``).
  public var plain: Bool
  /// A TLS port besides (or instead of) the plain one.
  public var tls: ListenerTLS?
  /// Connections beyond this are closed at once (counted as `rejected{reason="max_connections"}`).
  public var maxConnections: Int
  /// The largest packet a client may send, fixed header included; a larger one closes its
  /// connection (5.0: DISCONNECT 0x95). Also the Maximum Packet Size told to 5.0 clients.
  public var maxPacketBytes: Int
  /// QoS 1 and 2 PUBLISHes a connection may have unacknowledged: the Receive Maximum told to 5.0
  /// clients (one sending more is disconnected with 0x93); a 3.1.1 client's connection is not read
  /// while it has this many waiting, so TCP holds it back.
  public var receiveMaximum: Int
  /// Whether clients may connect without a user name (anonymous access).
  public var anonymous: Bool
  /// mosquitto's password file format (`weir passwd` writes it): a CONNECT with a user name
  /// must carry its password.
  public var passwordFile: String?
  /// mosquitto's `acl_file` format: what each user (or anonymous client) may publish and
  /// receive. Without one, every client that got in may publish and subscribe to everything.
  public var aclFile: String?
  /// Where each PUBLISH goes: the first route whose filter matches.
  public var routes: [MQTTSubscription]
  /// Where a PUBLISH no route matches goes (raw, keyed by nothing, one partition by default), so
  /// it is in the log too.
  public var defaultTopic: String
  /// Connects, disconnects and wills, as JSON events keyed by client id.
  public var eventsTopic: String
  /// Where payloads that fail a route's format go.
  public var deadLetterTopic: String
  /// The longest session expiry a client may ask for (seconds); 3.1.1's persistent sessions get it.
  public var maxSessionExpirySeconds: UInt32
  /// The longest keep-alive a client may ask for (seconds); 0 from a client means this.
  public var maxKeepAliveSeconds: UInt16
  /// Bytes of a route's payload (with its user properties) beyond which it is a dead letter.
  public var maxPayloadBytes: Int
  /// Sessions kept (connected, and persistent ones waiting for their client); a CONNECT that
  /// would make one more is refused (5.0: 0x97 quota exceeded, 3.1.1: server unavailable).
  public var maxSessions: Int
  /// Topic filters one session may subscribe; more are refused in the SUBACK (5.0: 0x97).
  public var maxSubscriptions: Int
  /// Retained messages kept (one per MQTT topic); a retained PUBLISH on a new topic past this is
  /// stored and delivered but not retained (counted as `retained_dropped`).
  public var maxRetained: Int
  /// Other log topics whose records with an `mqtt.topic` header subscribers are served from,
  /// besides what the listener writes (the rules' `alerts`).
  public var extraDeliveryTopics: [String]

  public init(
    name: String = "devices", host: String = "0.0.0.0", port: Int = 1883, maxConnections: Int = 10_000,
    maxPacketBytes: Int = 256 << 10, receiveMaximum: Int = 1024, anonymous: Bool = false,
    routes: [MQTTSubscription] = [], defaultTopic: String = "mqtt", eventsTopic: String = "device-events",
    deadLetterTopic: String = "deadletter", maxSessionExpirySeconds: UInt32 = 7 * 86_400,
    maxKeepAliveSeconds: UInt16 = 3600, maxPayloadBytes: Int = 256 << 10, maxSessions: Int = 100_000,
    maxSubscriptions: Int = 100, maxRetained: Int = 10_000, extraDeliveryTopics: [String] = [], plain: Bool = true,
    tls: ListenerTLS? = nil, passwordFile: String? = nil, aclFile: String? = nil
  ) {
    self.passwordFile = passwordFile
    self.aclFile = aclFile
    self.plain = plain
    self.tls = tls
    self.name = name
    self.host = host
    self.port = port
    self.maxConnections = maxConnections
    self.maxPacketBytes = maxPacketBytes
    self.receiveMaximum = receiveMaximum
    self.anonymous = anonymous
    self.routes = routes
    self.defaultTopic = defaultTopic
    self.eventsTopic = eventsTopic
    self.deadLetterTopic = deadLetterTopic
    self.maxSessionExpirySeconds = maxSessionExpirySeconds
    self.maxKeepAliveSeconds = maxKeepAliveSeconds
    self.maxPayloadBytes = maxPayloadBytes
    self.maxSessions = maxSessions
    self.maxSubscriptions = maxSubscriptions
    self.maxRetained = maxRetained
    self.extraDeliveryTopics = extraDeliveryTopics
  }

  /// The log topics the listener writes: the routes', the catch-all, events and dead letters.
  public var writtenTopics: [String] {
    var names: [String] = []
    for t in allRoutes.map(\.topic) + [eventsTopic, deadLetterTopic] where !names.contains(t) { names.append(t) }
    return names
  }

  /// The log topics subscribers are served from: what the listener writes, and
  /// ``extraDeliveryTopics``.
  public var deliveryTopics: [String] {
    var names = writtenTopics
    for t in extraDeliveryTopics where !names.contains(t) { names.append(t) }
    return names
  }

  /// The catch-all into ``defaultTopic``: every PUBLISH no route matches, `$` topics included.
  var catchAll: MQTTSubscription { MQTTSubscription(filter: "#", topic: defaultTopic, key: .none, format: .raw) }

  /// The routes, then the catch-all.
  var allRoutes: [MQTTSubscription] { routes + [catchAll] }

  /// What is wrong, with the key (as written in YAML) of each problem.
  public func problems() -> [ConfigIssue] {
    var out: [ConfigIssue] = []
    if name.isEmpty { out.append(ConfigIssue(key: "name", "a listener needs a name (metrics and logs use it)")) }
    if !(0...65_535).contains(port) { out.append(ConfigIssue(key: "listen", "port \(port) is not 0-65535")) }
    if !plain && tls == nil { out.append(ConfigIssue(key: "listen", "give listen, tls.listen or both")) }
    if let tls { out += tls.problems() }
    if !anonymous && passwordFile == nil && tls?.caFile == nil {
      out.append(
        ConfigIssue(
          key: "anonymous",
          "with anonymous: false, clients need a way in: auth.password_file, or client certificates (tls.ca_file)"))
    }
    if maxConnections < 1 { out.append(ConfigIssue(key: "max_connections", "must be at least 1")) }
    if maxPacketBytes < 64 || maxPacketBytes > 268_435_460 {
      out.append(ConfigIssue(key: "max_packet", "must be between 64 B and 256 MiB (MQTT's largest packet)"))
    }
    if !(1...65_535).contains(receiveMaximum) { out.append(ConfigIssue(key: "receive_maximum", "must be 1-65535")) }
    for (i, r) in routes.enumerated() {
      let key = "routes[\(i)]"
      if let p = TopicFilter.problem(r.filter) { out.append(ConfigIssue(key: key + ".filter", p)) }
      if case .field = r.key, r.format != .json {
        out.append(ConfigIssue(key: key + ".key", "a key from a payload field needs format json"))
      }
      if r.timeField != nil && r.format != .json {
        out.append(ConfigIssue(key: key + ".time_field", "a time field needs format json"))
      }
    }
    if maxPayloadBytes < 1 { out.append(ConfigIssue(key: "max_payload", "must be positive")) }
    if maxSessions < 1 { out.append(ConfigIssue(key: "max_sessions", "must be at least 1")) }
    if maxSubscriptions < 1 { out.append(ConfigIssue(key: "max_subscriptions", "must be at least 1")) }
    if maxRetained < 0 { out.append(ConfigIssue(key: "max_retained", "must be 0 or more")) }
    return out
  }
}

extension ListenerConfig: ConfigValidating {}
