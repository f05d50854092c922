import CMosquitto
import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// The simulator's only door to libmosquitto 2.0: one client handle, owned here and destroyed in
/// `deinit`. Everything else in firmware-sim talks MQTT through this class and never sees a C
/// pointer.
///
/// Two ways to drive the network:
/// - threaded (``connectAsync(host:port:)`` then ``startLoop()``): libmosquitto's own loop thread
///   reads, writes, keeps alive and reconnects; publishing from other threads is safe (the library
///   is thread-safe, see docs/parts.md). Used by the fleet and by subscribers.
/// - manual (``connect(host:port:)`` then ``loop(timeoutMilliseconds:)``): the calling thread, a
///   dedicated publisher thread, writes each publish directly to the socket and pumps the loop
///   itself. Used by load mode, where one thread per connection pipelines as fast as the broker
///   takes. Never use it to receive QoS 1 (docs/parts.md: PUBACK would precede the callback).
///
/// Callbacks get this object back as `Unmanaged` userdata. They copy what they need into Swift
/// values before returning and only touch atomics, so they are cheap and thread-safe.
public final class MosquittoClient: @unchecked Sendable {
  // @unchecked: the handle is used from the loop thread and from publishers, which libmosquitto
  // allows (all calls but lib_init are thread-safe); our own state is atomics and a Mutex.

  /// Client settings, turned into libmosquitto options only here.
  public struct Configuration: Sendable {
    /// The MQTT client id; firmware-sim uses stable ids `firmware-sim-<n>`.
    public var clientID: String
    /// Clean session. Default: true (devices do not keep sessions).
    public var cleanSession: Bool = true
    public var username: String?
    public var password: String?
    /// Keep-alive interval in seconds. Default: 30.
    public var keepAliveSeconds: Int32 = 30
    /// Most QoS 1 messages in flight (MOSQ_OPT_SEND_MAXIMUM, 1-65535). Default: nil, the library's 20.
    public var maxInflight: Int32?
    /// Delay before a reconnect, seconds. Default: 1 (libmosquitto's default).
    public var reconnectDelaySeconds: UInt32 = 1
    /// Upper bound of the reconnect delay, seconds. Default: 1.
    public var reconnectDelayMaxSeconds: UInt32 = 1
    /// Exponential back-off between reconnects. Default: false.
    public var exponentialBackoff: Bool = false

    public init(clientID: String) {
      self.clientID = clientID
    }
  }

  /// Called on the loop thread for each message received, with copies of topic and payload.
  public typealias MessageHandler = @Sendable (_ topic: String, _ payload: [UInt8]) -> Void

  public let clientID: String
  private let handle: OpaquePointer
  private let keepAlive: Int32
  private let messageHandler: MessageHandler?
  private let loopRunning = Mutex(false)
  private let connectedNow = Atomic<Bool>(false)
  private let connectCount = Atomic<Int>(0)
  private let disconnectCount = Atomic<Int>(0)
  private let ackCount = Atomic<Int>(0)
  private let subscribeAckCount = Atomic<Int>(0)
  private let lastRefusal = Atomic<Int32>(0)

  /// Create a client. Nothing touches the network until a connect call.
  public init(_ configuration: Configuration, onMessage: MessageHandler? = nil) throws(MosquittoError) {
    _ = libraryInitialised
    guard let handle = mosquitto_new(configuration.clientID, configuration.cleanSession, nil) else {
      throw MosquittoError(code: Int32(errno == ENOMEM ? MOSQ_ERR_NOMEM.rawValue : MOSQ_ERR_INVAL.rawValue),
        operation: "mosquitto_new(\(configuration.clientID))")
    }
    self.handle = handle
    clientID = configuration.clientID
    keepAlive = configuration.keepAliveSeconds
    messageHandler = onMessage
    mosquitto_user_data_set(handle, Unmanaged.passUnretained(self).toOpaque())
    installCallbacks()
    if let username = configuration.username {
      try check(mosquitto_username_pw_set(handle, username, configuration.password), "set user name")
    }
    try check(mosquitto_int_option(handle, MOSQ_OPT_TCP_NODELAY, 1), "set TCP_NODELAY")
    if let inflight = configuration.maxInflight {
      try check(mosquitto_int_option(handle, MOSQ_OPT_SEND_MAXIMUM, inflight), "set max inflight \(inflight)")
    }
    try check(
      mosquitto_reconnect_delay_set(
        handle, configuration.reconnectDelaySeconds,
        max(configuration.reconnectDelayMaxSeconds, configuration.reconnectDelaySeconds),
        configuration.exponentialBackoff),
      "set reconnect delay")
  }

  deinit {
    if loopRunning.withLock({ $0 }) {
      mosquitto_disconnect(handle)
      mosquitto_loop_stop(handle, true)
    }
    mosquitto_destroy(handle)
  }

  /// The libmosquitto version, e.g. "2.0.11".
  public static var libraryVersion: String {
    var major: Int32 = 0
    var minor: Int32 = 0
    var revision: Int32 = 0
    mosquitto_lib_version(&major, &minor, &revision)
    return "\(major).\(minor).\(revision)"
  }

  // MARK: Connection

  /// Start connecting without blocking; the loop thread (``startLoop()``) finishes the handshake and
  /// keeps retrying if the broker is not there yet.
  public func connectAsync(host: String, port: Int32) throws(MosquittoError) {
    try check(mosquitto_connect_async(handle, host, port, keepAlive), "connect to \(host):\(port)")
  }

  /// Start libmosquitto's network thread (reads, writes, keep-alive, reconnects).
  public func startLoop() throws(MosquittoError) {
    try check(mosquitto_loop_start(handle), "start the network loop")
    loopRunning.withLock { $0 = true }
  }

  /// Connect on the calling thread (manual mode); CONNACK arrives through ``loop(timeoutMilliseconds:)``.
  public func connect(host: String, port: Int32) throws(MosquittoError) {
    try check(mosquitto_connect(handle, host, port, keepAlive), "connect to \(host):\(port)")
  }

  /// Run one pass of the network loop on the calling thread (manual mode): wait up to `timeout`
  /// for the socket, then read and write what is ready.
  public func loop(timeoutMilliseconds: Int32) throws(MosquittoError) {
    try check(mosquitto_loop(handle, timeoutMilliseconds, 1), "network loop")
  }

  /// Whether bytes are queued for the socket (manual mode flushes until this is false).
  public var wantsWrite: Bool {
    mosquitto_want_write(handle)
  }

  /// Send DISCONNECT. With a running loop thread the loop then ends.
  public func disconnect() {
    mosquitto_disconnect(handle)
  }

  /// Disconnect and wait for the loop thread to end.
  public func close() {
    mosquitto_disconnect(handle)
    let running = loopRunning.withLock { running in
      defer { running = false }
      return running
    }
    if running {
      mosquitto_loop_stop(handle, false)
    }
  }

  /// Cut the TCP connection without DISCONNECT, as a network failure would. The loop thread notices
  /// and reconnects after the reconnect delay; a reconnect storm is this on every client at once.
  public func dropConnection() {
    let socket = mosquitto_socket(handle)
    if socket >= 0 {
      shutdown(socket, Int32(SHUT_RDWR))
    }
  }

  /// Whether the broker has accepted the connection (CONNACK 0) and it has not been lost since.
  public var isConnected: Bool { connectedNow.load(ordering: .acquiring) }
  /// Successful connections so far (reconnects included).
  public var connections: Int { connectCount.load(ordering: .relaxed) }
  /// Connections lost or closed so far.
  public var disconnections: Int { disconnectCount.load(ordering: .relaxed) }
  /// QoS 1 messages acknowledged (PUBACK) plus QoS 0 messages written, as on_publish reports them.
  public var acknowledged: Int { ackCount.load(ordering: .acquiring) }
  /// SUBACKs received.
  public var subscriptionsAcknowledged: Int { subscribeAckCount.load(ordering: .acquiring) }

  /// Wait until connected, or until `timeout` seconds pass. Throws if the broker refused us.
  public func waitUntilConnected(timeout: Double) throws(MosquittoError) -> Bool {
    let deadline = SimClock.monotonicSeconds() + timeout
    while !isConnected {
      let refusal = lastRefusal.load(ordering: .relaxed)
      if refusal != 0 {
        throw MosquittoError(
          code: Int32(MOSQ_ERR_CONN_REFUSED.rawValue), operation: "connect as \(clientID)",
          message: String(cString: mosquitto_connack_string(refusal)))
      }
      if SimClock.monotonicSeconds() >= deadline { return false }
      usleep(2000)
    }
    return true
  }

  // MARK: Messages

  /// Publish `payload` (copied by libmosquitto before this returns, so the buffer can be reused).
  public func publish(
    topic: String, payload: UnsafeRawBufferPointer, qos: Int32, retain: Bool = false
  ) throws(MosquittoError) {
    let rc = mosquitto_publish(handle, nil, topic, Int32(payload.count), payload.baseAddress, qos, retain)
    if rc != 0 {
      throw MosquittoError(code: rc, operation: "publish to \(topic)")
    }
  }

  /// Publish with a topic given as NUL-terminated bytes (precomputed on hot paths).
  public func publish(
    topic: UnsafePointer<CChar>, payload: UnsafeRawBufferPointer, qos: Int32
  ) throws(MosquittoError) {
    let rc = mosquitto_publish(handle, nil, topic, Int32(payload.count), payload.baseAddress, qos, false)
    if rc != 0 {
      throw MosquittoError(code: rc, operation: "publish to \(String(cString: topic))")
    }
  }

  /// Publish a byte array.
  public func publish(topic: String, payload: [UInt8], qos: Int32, retain: Bool = false) throws(MosquittoError) {
    let rc = payload.withUnsafeBytes { bytes in
      mosquitto_publish(handle, nil, topic, Int32(bytes.count), bytes.baseAddress, qos, retain)
    }
    if rc != 0 {
      throw MosquittoError(code: rc, operation: "publish to \(topic)")
    }
  }

  /// Subscribe to a topic filter; ``subscriptionsAcknowledged`` counts the SUBACKs.
  public func subscribe(_ pattern: String, qos: Int32) throws(MosquittoError) {
    try check(mosquitto_subscribe(handle, nil, pattern, qos), "subscribe to \(pattern)")
  }

  // MARK: Callbacks

  private func installCallbacks() {
    mosquitto_connect_callback_set(handle) { _, userdata, rc in
      guard let client = MosquittoClient.from(userdata) else { return }
      if rc == 0 {
        client.connectCount.add(1, ordering: .relaxed)
        client.connectedNow.store(true, ordering: .releasing)
      } else {
        client.lastRefusal.store(rc, ordering: .relaxed)
      }
    }
    mosquitto_disconnect_callback_set(handle) { _, userdata, _ in
      guard let client = MosquittoClient.from(userdata) else { return }
      client.connectedNow.store(false, ordering: .releasing)
      client.disconnectCount.add(1, ordering: .relaxed)
    }
    mosquitto_publish_callback_set(handle) { _, userdata, _ in
      MosquittoClient.from(userdata)?.ackCount.add(1, ordering: .releasing)
    }
    mosquitto_subscribe_callback_set(handle) { _, userdata, _, _, _ in
      MosquittoClient.from(userdata)?.subscribeAckCount.add(1, ordering: .releasing)
    }
    mosquitto_message_callback_set(handle) { _, userdata, message in
      guard let client = MosquittoClient.from(userdata), let handler = client.messageHandler,
        let message, let topicPointer = message.pointee.topic
      else { return }
      let topic = String(cString: topicPointer)
      let length = Int(message.pointee.payloadlen)
      let payload: [UInt8] =
        if let bytes = message.pointee.payload, length > 0 {
          Array(UnsafeRawBufferPointer(start: bytes, count: length))
        } else {
          []
        }
      handler(topic, payload)
    }
  }

  private static func from(_ userdata: UnsafeMutableRawPointer?) -> MosquittoClient? {
    guard let userdata else { return nil }
    return Unmanaged<MosquittoClient>.fromOpaque(userdata).takeUnretainedValue()
  }

  private func check(_ rc: Int32, _ operation: @autoclosure () -> String) throws(MosquittoError) {
    if rc != 0 {
      throw MosquittoError(code: rc, operation: operation())
    }
  }
}

/// libmosquitto must be initialised once per process before the first client.
private let libraryInitialised: Bool = {
  mosquitto_lib_init()
  return true
}()

/// A libmosquitto call that failed, with the library's own text (`mosquitto_strerror`).
public struct MosquittoError: Error, CustomStringConvertible, Equatable {
  /// The `MOSQ_ERR_*` code.
  public var code: Int32
  /// What we were doing.
  public var operation: String
  /// libmosquitto's explanation.
  public var message: String

  init(code: Int32, operation: String, message: String? = nil) {
    self.code = code
    self.operation = operation
    self.message = message ?? String(cString: mosquitto_strerror(code))
  }

  /// The client is not connected (publishing at QoS 0 while a connection is down).
  public var isNotConnected: Bool {
    code == Int32(MOSQ_ERR_NO_CONN.rawValue) || code == Int32(MOSQ_ERR_CONN_LOST.rawValue)
  }

  /// The network failed (connection refused, host unknown, connection lost): the loop thread keeps
  /// retrying, so a caller may carry on and wait for ``MosquittoClient/isConnected``.
  public var isNetworkFailure: Bool {
    isNotConnected || code == Int32(MOSQ_ERR_ERRNO.rawValue) || code == Int32(MOSQ_ERR_EAI.rawValue)
  }

  public var description: String {
    "\(operation): \(message) (mosquitto error \(code))"
  }
}
