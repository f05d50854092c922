import Logging
import WeirCore

/// The uplink's way to Kafka: one ``RdKafkaProducer``, recreated after a fatal error.
final class KafkaTransport: UplinkTransport {
  let kind = "kafka"
  private let config: KafkaUplinkConfig
  private let logger: Logger
  private(set) var producer: RdKafkaProducer
  private var topicNames: [String] = []
  private var wakeupFD: Int32?
  private(set) var brokenReason: String?
  private(set) var reachable: Bool?

  init(config: KafkaUplinkConfig, logger: Logger) throws(UplinkError) {
    self.config = config
    self.logger = logger
    producer = try Self.makeProducer(config, logger)
  }

  private static func makeProducer(_ config: KafkaUplinkConfig, _ logger: Logger) throws(UplinkError) -> RdKafkaProducer
  {
    do {
      return try RdKafkaProducer(properties: config.librdkafkaProperties, logger: logger)
    } catch {
      throw UplinkError(.transport, "uplink \(config.uplink.name): \(error.message)")
    }
  }

  func attach(_ wakeup: WakePipe) {
    wakeupFD = wakeup.writeFD
    producer.wakeOnEvents(fd: wakeup.writeFD)
  }

  func remoteTopic(_ name: String) throws(UplinkError) -> Int {
    do {
      let index = try producer.topic(name)
      if index == topicNames.count { topicNames.append(name) }
      return index
    } catch {
      throw UplinkError(.transport, "uplink \(config.uplink.name): \(error.message)")
    }
  }

  @inline(__always)
  func send(
    topic: Int, key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer?, timestamp: Int64,
    headers: UnsafeBufferPointer<HeaderRef>, token: UInt64
  ) -> SendOutcome {
    let code = producer.produce(
      topic: topic, key: key, value: value, timestamp: timestamp, headers: headers, token: token)
    if !code.isError { return .accepted }
    switch code {
    case .queueFull: return .busy
    case .messageTooLarge: return .rejected("record too large for librdkafka: \(RdKafkaProducer.describe(code))")
    case .fatal:
      brokenReason = producer.fatalError?.message ?? RdKafkaProducer.describe(code)
      return .busy
    default: return .failed("produce to \(topicNames[topic]): \(RdKafkaProducer.describe(code))")
    }
  }

  func poll(timeoutMs: Int32, _ handler: (UInt64, DeliveryOutcome) -> Void) {
    producer.poll(timeoutMs: timeoutMs) { report in
      if !report.error.isError {
        reachable = true
        handler(report.token, .delivered)
        return
      }
      switch report.error {
      case .purgedQueued, .purgedInFlight:
        handler(report.token, .failed("purged after an earlier failure", purged: true))
      case .messageTooLarge:
        handler(report.token, .rejected("the cluster refuses the record: \(RdKafkaProducer.describe(report.error))"))
      default:
        if report.error == .fatal { brokenReason = producer.fatalError?.message ?? "fatal error" }
        handler(
          report.token,
          .failed("\(RdKafkaProducer.describe(report.error)) (\(report.persistence))", purged: false))
      }
    } onError: { error, fatal in
      if fatal {
        brokenReason = error.message
      } else if error.code == .allBrokersDown {
        reachable = false
      }
      logger.log(
        level: fatal ? .error : .info, "librdkafka: \(error.message)", metadata: ["uplink": "\(config.uplink.name)"])
    }
  }

  func abandonQueued() { producer.purge(inFlight: false) }

  var drainTimeoutMs: Int { config.messageTimeoutMs + 30_000 }

  /// Half the message timeout: a record older than that might still time out, and what follows
  /// it must not be confirmed first.
  var overtakeGuardMs: Int? { config.messageTimeoutMs / 2 }

  func restart() throws(UplinkError) {
    // The old producer is purged and destroyed on replacement; its reports are never served.
    producer = try Self.makeProducer(config, logger)
    brokenReason = nil
    reachable = nil
    for name in topicNames { _ = try remoteTopic(name) }
    if let wakeupFD { producer.wakeOnEvents(fd: wakeupFD) }
  }

  func close() {
    producer.purge(inFlight: true)
  }

  /// Raises librdkafka's fatal error, as 2.0.2 can after a sequence desynchronisation (tests).
  func triggerFatalErrorForTesting() {
    producer.triggerFatalErrorForTesting("weir test")
  }
}
