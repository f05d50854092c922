import CRdKafka
public import Logging

/// The one owner of a librdkafka producer handle (`rd_kafka_t`). Every librdkafka pointer of a
/// producer lives and dies here; callers see Swift values only.
///
/// Not thread-safe: one thread produces and polls (delivery reports and errors are served by
/// ``poll(timeoutMs:onReport:onError:)`` on that thread, as librdkafka serves them from
/// `rd_kafka_poll`). Only librdkafka's log callback runs on its own threads, and it touches
/// nothing but the logger.
/// `@unchecked Sendable`: no lock of ours: the handle is used from one thread (the uplink's); librdkafka is thread-safe for the rest and its log callback touches only the logger.
public final class RdKafkaProducer: @unchecked Sendable {
  private var handle: OpaquePointer?
  private var topicHandles: [OpaquePointer] = []
  private var topicNames: [String] = []
  private var reports: [KafkaDeliveryReport] = []
  private var errors: [(KafkaError, Bool)] = []
  private let vus: UnsafeMutablePointer<rd_kafka_vu_t>
  private let logger: Logger
  private var wakeupEnabled = false
  /// Set once librdkafka raised a fatal error: the handle can produce nothing more.
  public private(set) var fatalError: KafkaError?

  /// Creates a producer from librdkafka properties, applied in order. A property librdkafka
  /// refuses throws with its own explanation.
  public init(properties: [(String, String)], logger: Logger) throws(KafkaError) {
    self.logger = logger
    vus = .allocate(capacity: 8)
    reports.reserveCapacity(4096)
    guard let conf = rd_kafka_conf_new() else {
      throw KafkaError(.invalidArgument, "librdkafka: cannot allocate a configuration")
    }
    for (key, value) in properties {
      if let problem = Self.set(conf, key, value) {
        rd_kafka_conf_destroy(conf)
        throw KafkaError(.invalidArgument, problem)
      }
    }
    rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(self).toOpaque())
    rd_kafka_conf_set_dr_msg_cb(conf) { _, message, opaque in
      guard let message, let opaque else { return }
      let producer = Unmanaged<RdKafkaProducer>.fromOpaque(opaque).takeUnretainedValue()
      let m = message.pointee
      let persistence: KafkaPersistence
      switch rd_kafka_message_status(message) {
      case RD_KAFKA_MSG_STATUS_PERSISTED: persistence = .persisted
      case RD_KAFKA_MSG_STATUS_POSSIBLY_PERSISTED: persistence = .possiblyPersisted
      default: persistence = .notPersisted
      }
      producer.reports.append(
        KafkaDeliveryReport(
          token: UInt64(UInt(bitPattern: m._private)), error: KafkaErrorCode(rawValue: Int32(m.err.rawValue)),
          persistence: persistence, partition: m.partition, offset: m.offset))
    }
    rd_kafka_conf_set_error_cb(conf) { rk, code, reason, opaque in
      guard let opaque else { return }
      let producer = Unmanaged<RdKafkaProducer>.fromOpaque(opaque).takeUnretainedValue()
      let text = reason.map { String(cString: $0) } ?? ""
      let code = rd_kafka_resp_err_t(rawValue: code)
      if code == RD_KAFKA_RESP_ERR__FATAL, let rk {
        var buffer = [CChar](repeating: 0, count: 512)
        let underlying = rd_kafka_fatal_error(rk, &buffer, buffer.count)
        let error = KafkaError(
          KafkaErrorCode(rawValue: Int32(underlying.rawValue)),
          "librdkafka fatal error: \(String(cString: rd_kafka_err2str(underlying))): \(cText(buffer))")
        producer.fatalError = error
        producer.errors.append((error, true))
      } else {
        producer.errors.append(
          (
            KafkaError(
              KafkaErrorCode(rawValue: Int32(code.rawValue)), "\(String(cString: rd_kafka_err2str(code))): \(text)"),
            false
          ))
      }
    }
    rd_kafka_conf_set_log_cb(conf) { rk, level, facility, message in
      guard let rk, let opaque = rd_kafka_opaque(rk) else { return }
      let producer = Unmanaged<RdKafkaProducer>.fromOpaque(opaque).takeUnretainedValue()
      let text = "\(facility.map { String(cString: $0) } ?? ""): \(message.map { String(cString: $0) } ?? "")"
      producer.logger.log(level: RdKafkaProducer.logLevel(syslog: level), "librdkafka \(text)")
    }
    var errstr = [CChar](repeating: 0, count: 512)
    guard let rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, &errstr, errstr.count) else {
      rd_kafka_conf_destroy(conf)
      throw KafkaError(.invalidArgument, "librdkafka cannot create a producer: \(cText(errstr))")
    }
    handle = rk
  }

  deinit {
    if let handle {
      if wakeupEnabled, let queue = rd_kafka_queue_get_main(handle) {
        rd_kafka_queue_io_event_enable(queue, -1, nil, 0)
        rd_kafka_queue_destroy(queue)
      }
      rd_kafka_purge(handle, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT | RD_KAFKA_PURGE_F_NON_BLOCKING)
      for topic in topicHandles { rd_kafka_topic_destroy(topic) }
      rd_kafka_destroy(handle)
    }
    vus.deallocate()
  }

  /// Returns the index to produce to `name` with, creating librdkafka's topic handle once.
  public func topic(_ name: String) throws(KafkaError) -> Int {
    if let index = topicNames.firstIndex(of: name) { return index }
    guard let handle, let topic = rd_kafka_topic_new(handle, name, nil) else {
      let code = rd_kafka_last_error()
      throw KafkaError(
        KafkaErrorCode(rawValue: Int32(code.rawValue)), "topic \(name): \(String(cString: rd_kafka_err2str(code)))")
    }
    topicHandles.append(topic)
    topicNames.append(name)
    return topicHandles.count - 1
  }

  /// Hands one message to librdkafka, which copies key, value and headers before returning.
  /// The key picks the partition (the configured partitioner). Returns the error code, zero
  /// when the message was queued; `token` comes back in its delivery report.
  @inline(__always)
  public func produce(
    topic: Int, key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer?, timestamp: Int64,
    headers: UnsafeBufferPointer<HeaderRef>, token: UInt64
  ) -> KafkaErrorCode {
    guard let handle else { return .fatal }
    let list = rd_kafka_headers_new(headers.count)
    for h in headers {
      _ = rd_kafka_header_add(
        list, Self.pointer(h.name).assumingMemoryBound(to: CChar.self), h.name.count,
        h.value.map { Self.pointer($0) }, h.value?.count ?? 0)
    }
    var n = 0
    vus[n] = rd_kafka_vu_t()
    vus[n].vtype = RD_KAFKA_VTYPE_RKT
    vus[n].u.rkt = topicHandles[topic]
    n += 1
    vus[n] = rd_kafka_vu_t()
    vus[n].vtype = RD_KAFKA_VTYPE_VALUE
    vus[n].u.mem.ptr = value.map { UnsafeMutableRawPointer(mutating: Self.pointer($0)) }
    vus[n].u.mem.size = value?.count ?? 0
    n += 1
    if let key {
      vus[n] = rd_kafka_vu_t()
      vus[n].vtype = RD_KAFKA_VTYPE_KEY
      vus[n].u.mem.ptr = UnsafeMutableRawPointer(mutating: Self.pointer(key))
      vus[n].u.mem.size = key.count
      n += 1
    }
    vus[n] = rd_kafka_vu_t()
    vus[n].vtype = RD_KAFKA_VTYPE_TIMESTAMP
    vus[n].u.i64 = timestamp
    n += 1
    vus[n] = rd_kafka_vu_t()
    vus[n].vtype = RD_KAFKA_VTYPE_HEADERS
    vus[n].u.headers = list
    n += 1
    vus[n] = rd_kafka_vu_t()
    vus[n].vtype = RD_KAFKA_VTYPE_OPAQUE
    vus[n].u.ptr = UnsafeMutableRawPointer(bitPattern: UInt(token))
    n += 1
    vus[n] = rd_kafka_vu_t()
    vus[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS
    vus[n].u.i = RD_KAFKA_MSG_F_COPY
    n += 1
    guard let error = rd_kafka_produceva(handle, vus, n) else { return KafkaErrorCode(rawValue: 0) }
    let code = rd_kafka_error_code(error)
    rd_kafka_error_destroy(error)
    rd_kafka_headers_destroy(list)
    return KafkaErrorCode(rawValue: Int32(code.rawValue))
  }

  /// Serves delivery reports and errors: waits up to `timeoutMs` for the first, then hands each
  /// to the closures, on the calling thread. Returns the number of events served.
  @discardableResult
  public func poll(
    timeoutMs: Int32, onReport: (KafkaDeliveryReport) -> Void, onError: (KafkaError, _ fatal: Bool) -> Void
  ) -> Int {
    guard let handle else { return 0 }
    rd_kafka_poll(handle, timeoutMs)
    let served = reports.count + errors.count
    for report in reports { onReport(report) }
    reports.removeAll(keepingCapacity: true)
    if !errors.isEmpty {
      let pending = errors
      errors.removeAll()
      for (error, fatal) in pending { onError(error, fatal) }
    }
    return served
  }

  /// Waits up to `timeoutMs` for every queued message to be delivered or to fail; their reports
  /// come out of the next ``poll(timeoutMs:onReport:onError:)``. Returns what is still outstanding.
  public func flush(timeoutMs: Int32) -> Int {
    guard let handle else { return 0 }
    _ = rd_kafka_flush(handle, timeoutMs)
    return Int(rd_kafka_outq_len(handle))
  }

  /// Fails every message not yet sent (`_PURGE_QUEUE`, not persisted) and, with `inFlight`, those
  /// awaiting a response (`_PURGE_INFLIGHT`). Their reports come out of the next poll.
  public func purge(inFlight: Bool) {
    guard let handle else { return }
    var flags = RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_NON_BLOCKING
    if inFlight { flags |= RD_KAFKA_PURGE_F_INFLIGHT }
    rd_kafka_purge(handle, flags)
  }

  /// Messages and events librdkafka still holds (queued, in flight, or reports not yet served).
  public var outstanding: Int { handle.map { Int(rd_kafka_outq_len($0)) } ?? 0 }

  /// Makes librdkafka write a byte to `fd` (non-blocking) whenever a report or error becomes
  /// ready, so one `poll(2)` can wait for it and for other wake-ups.
  public func wakeOnEvents(fd: Int32) {
    guard let handle, let queue = rd_kafka_queue_get_main(handle) else { return }
    var byte: UInt8 = 1
    rd_kafka_queue_io_event_enable(queue, fd, &byte, 1)
    rd_kafka_queue_destroy(queue)
    wakeupEnabled = true
  }

  /// Raises a fatal error as librdkafka would after a sequence desynchronisation (tests only).
  public func triggerFatalErrorForTesting(_ reason: String) {
    guard let handle else { return }
    _ = rd_kafka_test_fatal_error(handle, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, reason)
  }

  // MARK: Library facts

  /// librdkafka's version, e.g. `2.0.2`.
  public static var version: String { String(cString: rd_kafka_version_str()) }

  /// The library's `builtin.features`: compression codecs (`gzip`, `snappy`, `lz4`, `zstd`), `ssl`,
  /// `sasl_scram`, `sasl_plain`...
  public static var builtinFeatures: Set<String> {
    guard let conf = rd_kafka_conf_new() else { return [] }
    defer { rd_kafka_conf_destroy(conf) }
    var size = 1024
    var buffer = [CChar](repeating: 0, count: size)
    guard rd_kafka_conf_get(conf, "builtin.features", &buffer, &size) == RD_KAFKA_CONF_OK else { return [] }
    return Set(cText(buffer).split(separator: ",").map(String.init))
  }

  /// Checks one property against librdkafka without creating a client; returns its complaint.
  public static func check(property key: String, value: String) -> String? {
    guard let conf = rd_kafka_conf_new() else { return "librdkafka: cannot allocate a configuration" }
    defer { rd_kafka_conf_destroy(conf) }
    return set(conf, key, value)
  }

  /// The text librdkafka gives an error code.
  public static func describe(_ code: KafkaErrorCode) -> String {
    String(cString: rd_kafka_err2str(rd_kafka_resp_err_t(rawValue: code.rawValue)))
  }

  private static func set(_ conf: OpaquePointer, _ key: String, _ value: String) -> String? {
    var errstr = [CChar](repeating: 0, count: 512)
    guard rd_kafka_conf_set(conf, key, value, &errstr, errstr.count) == RD_KAFKA_CONF_OK else {
      return "librdkafka property \(key)=\(value): \(cText(errstr))"
    }
    return nil
  }

  /// An empty buffer may have no base address; librdkafka reads a null pointer as a null key or
  /// value, so empty ones point at a static byte instead.
  @inline(__always)
  static func pointer(_ buffer: UnsafeRawBufferPointer) -> UnsafeRawPointer {
    buffer.baseAddress ?? UnsafeRawPointer(emptyByte)
  }

  nonisolated(unsafe) private static let emptyByte = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)

  static func logLevel(syslog level: Int32) -> Logger.Level {
    switch level {
    case ...3: .error
    case 4: .warning
    case 5, 6: .info
    default: .debug
    }
  }
}

extension KafkaErrorCode {
  public static let fatal = Self(rawValue: Int32(RD_KAFKA_RESP_ERR__FATAL.rawValue))
  public static let messageTimedOut = Self(rawValue: Int32(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT.rawValue))
  public static let purgedQueued = Self(rawValue: Int32(RD_KAFKA_RESP_ERR__PURGE_QUEUE.rawValue))
  public static let purgedInFlight = Self(rawValue: Int32(RD_KAFKA_RESP_ERR__PURGE_INFLIGHT.rawValue))
  public static let queueFull = Self(rawValue: Int32(RD_KAFKA_RESP_ERR__QUEUE_FULL.rawValue))
  public static let messageTooLarge = Self(rawValue: Int32(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE.rawValue))
  public static let transport = Self(rawValue: Int32(RD_KAFKA_RESP_ERR__TRANSPORT.rawValue))
  public static let allBrokersDown = Self(rawValue: Int32(RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN.rawValue))
  public static let invalidArgument = Self(rawValue: Int32(RD_KAFKA_RESP_ERR__INVALID_ARG.rawValue))
  public static let timedOut = Self(rawValue: Int32(RD_KAFKA_RESP_ERR__TIMED_OUT.rawValue))
  public static let partitionEOF = Self(rawValue: Int32(RD_KAFKA_RESP_ERR__PARTITION_EOF.rawValue))
  public static let notEnoughReplicas = Self(rawValue: Int32(RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS.rawValue))
  public static let notLeaderForPartition = Self(rawValue: Int32(RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION.rawValue))
  public static let requestTimedOut = Self(rawValue: Int32(RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT.rawValue))
  public static let leaderNotAvailable = Self(rawValue: Int32(RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE.rawValue))
}

/// The text of a NUL-terminated C buffer.
private func cText(_ buffer: [CChar]) -> String {
  buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}
