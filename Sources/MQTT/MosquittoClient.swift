import CMosquitto

#if canImport(Glibc)
  import Glibc
#endif

/// The gateway's one wrapper of libmosquitto 2.0: owns the client handle, and is driven by its
/// owner's own loop thread (`threaded` mode, so PUBACKs for received messages are only queued by
/// the library and go out at ``writePending()``: the owner acknowledges after the log holds the
/// messages). Callbacks run on the thread that calls ``readAvailable(maxMessages:timeoutMs:onMessage:)``,
/// ``writePending()`` or ``misc()``. `publish` and `subscribe` may be called from any thread.
/// `@unchecked Sendable`: no lock of ours: reads, writes and callbacks run on the owner's one loop thread; `publish`/`subscribe` from other threads are serialised by libmosquitto's own mutexes.
public final class MosquittoClient: @unchecked Sendable {
  private let handle: OpaquePointer
  public let config: MQTTClientConfig

  /// CONNACK received: return code (0 = accepted), session present, and the broker's reason.
  public var onConnect: ((_ rc: Int32, _ sessionPresent: Bool, _ reason: String) -> Void)?
  /// The connection ended (rc 0: we asked for it).
  public var onDisconnect: ((_ rc: Int32, _ reason: String) -> Void)?
  /// SUBACK: the granted QoS per filter (128 = refused).
  public var onSubscribe: ((_ mid: Int32, _ granted: [Int32]) -> Void)?
  /// PUBACK (QoS 1) or PUBCOMP (QoS 2) for one of our publishes, or a QoS 0 publish written.
  public var onPublish: ((_ mid: Int32, _ reasonCode: Int32) -> Void)?
  private var messageHandler: ((MQTTMessageView) -> Void)?
  private var messagesThisPass = 0
  private var bytesThisPass = 0

  private static let initialised: Bool = {
    mosquitto_lib_init()
    return true
  }()

  public init(config: MQTTClientConfig) throws(MQTTError) {
    _ = Self.initialised
    self.config = config
    guard let h = mosquitto_new(config.clientID, config.cleanSession, nil) else {
      throw MQTTError(
        code: MOSQ_ERR_NOMEM.rawValue, message: "could not create an MQTT client: \(String(cString: strerror(errno)))")
    }
    handle = h
    mosquitto_user_data_set(h, Unmanaged.passUnretained(self).toOpaque())
    try check(mosquitto_threaded_set(h, true), "threaded mode")
    let version = config.protocolVersion == .v5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311
    try check(mosquitto_int_option(h, MOSQ_OPT_PROTOCOL_VERSION, version), "protocol version")
    try check(mosquitto_int_option(h, MOSQ_OPT_TCP_NODELAY, 1), "TCP_NODELAY")
    if config.protocolVersion == .v5 {
      try check(
        mosquitto_int_option(h, MOSQ_OPT_RECEIVE_MAXIMUM, Int32(min(config.maxInflight, 65535))), "receive maximum")
    }
    try check(mosquitto_max_inflight_messages_set(h, UInt32(config.maxInflight)), "max inflight")
    if config.username != nil || config.password != nil {
      try check(mosquitto_username_pw_set(h, config.username, config.password), "username and password")
    }
    if let tls = config.tls {
      try check(mosquitto_tls_set(h, tls.caFile, nil, tls.certFile, tls.keyFile, nil), "TLS files (CA \(tls.caFile))")
      try check(mosquitto_tls_opts_set(h, 1, tls.version, nil), "TLS options")
      if tls.insecure { try check(mosquitto_tls_insecure_set(h, true), "TLS insecure") }
    }
    mosquitto_connect_v5_callback_set(h) { _, obj, rc, flags, _ in
      let client = Unmanaged<MosquittoClient>.fromOpaque(obj!).takeUnretainedValue()
      client.onConnect?(rc, flags & 1 != 0, String(cString: mosquitto_reason_string(rc)))
    }
    mosquitto_disconnect_v5_callback_set(h) { _, obj, rc, _ in
      let client = Unmanaged<MosquittoClient>.fromOpaque(obj!).takeUnretainedValue()
      client.onDisconnect?(rc, String(cString: mosquitto_strerror(rc)))
    }
    mosquitto_subscribe_v5_callback_set(h) { _, obj, mid, count, granted, _ in
      let client = Unmanaged<MosquittoClient>.fromOpaque(obj!).takeUnretainedValue()
      let qos = (0..<Int(count)).map { granted![$0] }
      client.onSubscribe?(mid, qos)
    }
    mosquitto_publish_v5_callback_set(h) { _, obj, mid, reason, _ in
      let client = Unmanaged<MosquittoClient>.fromOpaque(obj!).takeUnretainedValue()
      client.onPublish?(mid, reason)
    }
    mosquitto_message_v5_callback_set(h) { _, obj, message, properties in
      let client = Unmanaged<MosquittoClient>.fromOpaque(obj!).takeUnretainedValue()
      guard let message, let handler = client.messageHandler else { return }
      let m = message.pointee
      var userProperties: [(String, String)] = []
      if let properties {
        var name: UnsafeMutablePointer<CChar>?
        var value: UnsafeMutablePointer<CChar>?
        let id = Int32(MQTT_PROP_USER_PROPERTY.rawValue)
        var p = mosquitto_property_read_string_pair(properties, id, &name, &value, false)
        while p != nil {
          if let name, let value { userProperties.append((String(cString: name), String(cString: value))) }
          free(name)
          free(value)
          p = mosquitto_property_read_string_pair(p, id, &name, &value, true)
        }
      }
      let topic = UnsafeRawBufferPointer(start: m.topic, count: m.topic.map { strlen($0) } ?? 0)
      let payload = UnsafeRawBufferPointer(start: m.payload, count: Int(m.payloadlen))
      client.messagesThisPass += 1
      client.bytesThisPass += topic.count + payload.count
      handler(
        MQTTMessageView(
          topic: topic, payload: payload, qos: m.qos, retain: m.retain, mid: m.mid, userProperties: userProperties))
    }
  }

  deinit {
    mosquitto_destroy(handle)
  }

  private func check(_ rc: Int32, _ what: String) throws(MQTTError) {
    if rc != MOSQ_ERR_SUCCESS.rawValue { throw Self.error(rc, what) }
  }

  static func error(_ rc: Int32, _ what: String) -> MQTTError {
    var text = String(cString: mosquitto_strerror(rc))
    if rc == MOSQ_ERR_ERRNO.rawValue { text = String(cString: strerror(errno)) }
    if rc == MOSQ_ERR_TLS.rawValue {
      text +=
        " (TLS handshake or certificate failure: check the CA file, the client certificate and key, and the host name)"
    }
    return MQTTError(code: rc, message: "\(what): \(text)")
  }

  /// The library's version, e.g. "2.0.11".
  public static var libraryVersion: String {
    var major: Int32 = 0
    var minor: Int32 = 0
    var revision: Int32 = 0
    mosquitto_lib_version(&major, &minor, &revision)
    return "\(major).\(minor).\(revision)"
  }

  /// Opens the TCP (and TLS) connection and queues CONNECT; CONNACK arrives through the loop.
  public func connect() throws(MQTTError) {
    try check(
      mosquitto_connect(handle, config.host, Int32(config.port), Int32(config.keepalive)),
      "connect to \(config.host):\(config.port)")
  }

  public func reconnect() throws(MQTTError) {
    try check(mosquitto_reconnect(handle), "reconnect to \(config.host):\(config.port)")
  }

  /// Queues DISCONNECT; call ``writePending()`` to send it.
  public func disconnect() {
    _ = mosquitto_disconnect(handle)
  }

  @discardableResult
  public func subscribe(_ filter: String, qos: Int32) throws(MQTTError) -> Int32 {
    var mid: Int32 = 0
    try check(mosquitto_subscribe(handle, &mid, filter, qos), "subscribe to \(filter)")
    return mid
  }

  /// Queues a publish; returns its message id (``onPublish`` reports its acknowledgement).
  @discardableResult
  public func publish(topic: String, payload: UnsafeRawBufferPointer, qos: Int32, retain: Bool = false)
    throws(MQTTError)
    -> Int32
  {
    var mid: Int32 = 0
    try check(
      mosquitto_publish(handle, &mid, topic, Int32(payload.count), payload.baseAddress, qos, retain),
      "publish to \(topic)")
    return mid
  }

  /// The socket, or -1 when not connected.
  public var socket: Int32 { mosquitto_socket(handle) }

  /// Whether packets are queued for writing.
  public var wantsWrite: Bool { mosquitto_want_write(handle) }

  /// Waits up to `timeoutMs` for the socket to be readable (or writable, when packets are
  /// queued), then reads packets while data is there, up to `maxMessages` messages or about
  /// `maxBytes` of topics and payloads (the message that crosses it is the last), calling
  /// `onMessage` for each. PUBACKs for them stay queued until ``writePending()``.
  /// Returns the number of messages read.
  public func readAvailable(
    maxMessages: Int, maxBytes: Int = .max, timeoutMs: Int32, onMessage: (MQTTMessageView) -> Void
  ) throws(MQTTError) -> Int {
    let fd = socket
    guard fd >= 0 else { throw MQTTError(code: MOSQ_ERR_NO_CONN.rawValue, message: "not connected") }
    var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    if wantsWrite { pfd.events |= Int16(POLLOUT) }
    let ready = poll(&pfd, 1, timeoutMs)
    if ready < 0 && errno != EINTR { throw Self.error(MOSQ_ERR_ERRNO.rawValue, "poll") }
    if ready <= 0 { return 0 }
    if pfd.revents & Int16(POLLOUT) != 0 { try writePending() }
    guard pfd.revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 else { return 0 }
    messagesThisPass = 0
    bytesThisPass = 0
    try withoutActuallyEscaping(onMessage) { (handler) throws(MQTTError) in
      messageHandler = handler
      defer { messageHandler = nil }
      var more = true
      while more && messagesThisPass < maxMessages && bytesThisPass < maxBytes {
        try check(mosquitto_loop_read(handle, 1), "read from \(config.host):\(config.port)")
        // Read on while the kernel has more bytes for us.
        var again = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        more = poll(&again, 1, 0) > 0 && again.revents & Int16(POLLIN) != 0
      }
    }
    return messagesThisPass
  }

  /// Writes every queued packet (PUBACKs, publishes, pings).
  public func writePending() throws(MQTTError) {
    var rounds = 0
    while wantsWrite && rounds < 10_000 {
      try check(mosquitto_loop_write(handle, 1), "write to \(config.host):\(config.port)")
      rounds += 1
      if wantsWrite {
        // The socket buffer is full: wait for room.
        var pfd = pollfd(fd: socket, events: Int16(POLLOUT), revents: 0)
        if poll(&pfd, 1, 100) <= 0 { return }
      }
    }
  }

  /// Keepalive pings and retries; call about once a second.
  public func misc() throws(MQTTError) {
    try check(mosquitto_loop_misc(handle), "keepalive with \(config.host):\(config.port)")
  }
}
