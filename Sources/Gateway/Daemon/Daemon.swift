import Foundation
import Ingest
public import Logging
import MQTT
import PartitionedLog
public import Prometheus
import Rules
import RulesService
import ServiceLifecycle
import UnixSignals
import Uplink
import WeirCore

/// The gateway process: the log, the sources, the uplinks, the rule service and the HTTP server,
/// run by a swift-service-lifecycle `ServiceGroup`.
///
/// SIGTERM and SIGINT drain in order: sources stop (their last pass is committed and
/// acknowledged), the rule service checkpoints, the uplinks wait for what is in flight and commit
/// their cursors, the HTTP server stops, and the log is flushed, fsynced and closed (a clean stop).
/// SIGHUP reloads the rule files; rules whose text did not change keep their state.
public final class Daemon: Sendable {
  public let config: GatewayConfig
  let logger: Logger
  let store: LogStore
  let registry: PrometheusCollectorRegistry
  let mqttSources: [MQTTSource]
  let serialSources: [SerialLineSource]
  let modbusSources: [ModbusSource]
  let listeners: [MQTTListener]
  let kafkaUplinks: [KafkaUplink]
  let mqttUplinks: [MqttUplink]
  let ruleService: RuleService?
  let alertPublisher: AlertPublisher?
  let sampler: StatusSampler
  let alertIndex: AlertIndex
  let startedAt = Date()
  let ruleCount: Int
  /// Topics the sources write (ingest rate counts these).
  let sourceTopics: [String]
  /// Bounds the wait for the service group once the drain has begun.
  let drainDeadline: DrainDeadline

  /// Opens the log, creates every topic the configuration names (before any source starts) and
  /// builds every component. Nothing runs before ``run()``.
  public init(config: GatewayConfig, registry: PrometheusCollectorRegistry, logger: Logger) throws {
    self.config = config
    self.logger = logger
    self.registry = registry
    store = try LogStore.open(
      directory: config.dataDirectory, options: config.log, logger: logger.child("weir.log"))
    if store.recoveredFromUncleanStop {
      logger.warning(
        "log recovered after an unclean stop",
        metadata: ["truncations": "\(store.recoveryEvents.count)", "epoch": "\(store.epoch)"])
    }

    // Topics: declared ones with their settings, then every topic something writes or reads.
    for (name, topicConfig) in config.topics { try store.createTopic(name, config: topicConfig) }
    let implicit: [(String, TopicConfig)] = [
      ("alerts", RuleService.alertsTopicConfig),
      ("deadletter", TopicConfig(maxAgeMs: 30 * 86_400_000, evictionPriority: 5)),
    ]
    for (name, c) in implicit where store.topic(name) == nil { try store.createTopic(name, config: c) }
    var written = Set(config.mqttSources.flatMap { $0.subscriptions.map(\.topic) })
    written.formUnion(config.serialSources.map(\.lineProtocol.topic))
    written.formUnion(config.modbusSources.map(\.topic))
    for l in config.listeners {
      written.formUnion(l.routes.map(\.topic) + [l.defaultTopic, l.eventsTopic, l.deadLetterTopic])
    }
    var ruleTopics = Set<String>()
    var ruleSources: [(source: String, fileName: String)] = []
    for file in config.ruleFiles {
      let source = try String(contentsOfFile: file, encoding: .utf8)
      ruleSources.append((source, file))
      ruleTopics.formUnion(RuleFile.parse(source, fileName: file).rules.map(\.topic))
    }
    let uplinkTopics = Set(config.uplinks.flatMap { $0.options.topics.map(\.name) })
    for name in written.union(ruleTopics).union(uplinkTopics).sorted() where store.topic(name) == nil {
      try store.createTopic(name)
    }
    sourceTopics = written.sorted()

    let store = store
    mqttSources = try config.mqttSources.map {
      try MQTTSource(config: $0, store: store, logger: logger.child("weir.ingest.mqtt"))
    }
    serialSources = try config.serialSources.map {
      try SerialLineSource(
        port: $0.port, lineProtocol: $0.lineProtocol, store: store, logger: logger.child("weir.serial"))
    }
    modbusSources = try config.modbusSources.map {
      try ModbusSource(config: $0, store: store, logger: logger.child("weir.modbus"))
    }
    // With rules, a listener serves the `alerts` topic to its subscribers (`weir/alerts/<rule>/<key>`):
    // local consumers get alerts without a broker.
    let servesAlerts = config.publishAlerts && !ruleSources.isEmpty
    listeners = config.listeners.map {
      var listener = $0
      if servesAlerts { listener.extraDeliveryTopics.append("alerts") }
      return MQTTListener(config: listener, store: store, logger: logger.child("weir.listener"))
    }
    var kafka: [KafkaUplink] = []
    var mqtt: [MqttUplink] = []
    for uplink in config.uplinks {
      switch uplink {
      case .kafka(let c): kafka.append(try KafkaUplink(config: c, store: store, logger: logger.child("weir.uplink")))
      case .mqtt(let c): mqtt.append(try MqttUplink(config: c, store: store, logger: logger.child("weir.uplink")))
      }
    }
    kafkaUplinks = kafka
    mqttUplinks = mqtt

    // The libmosquitto publisher only where a broker is the local hub (no listener serves them).
    if config.publishAlerts, config.listeners.isEmpty, let local = config.mqttSources.first, !ruleSources.isEmpty {
      var broker = local.client
      broker.clientID = "weir-\(config.gatewayID)-alerts"
      broker.cleanSession = true
      alertPublisher = try AlertPublisher(broker: broker, logger: logger.child("weir.alerts"))
    } else {
      alertPublisher = nil
    }
    if ruleSources.isEmpty {
      ruleService = nil
      ruleCount = 0
    } else {
      let engine = RuleEngine(clock: ContinuousClock())
      let report = engine.reload(files: ruleSources)
      ruleCount = engine.ruleNames.count
      if !report.refused.isEmpty {
        throw ConfigError(
          problems: report.refused.map {
            ConfigProblem(file: $0.file, line: $0.location.line, key: $0.rule ?? "rules", message: $0.message)
          })
      }
      var publish: (@Sendable (String, [UInt8]) -> Void)?
      if let publisher = alertPublisher {
        publish = { topic, payload in publisher.publish(topic: topic, payload: payload) }
      }
      ruleService = RuleService(
        store: store, engine: engine, options: RuleService.Options(topics: ruleTopics.sorted()), publish: publish,
        logger: logger.child("weir.rules"))
    }
    alertIndex = AlertIndex(partition: store.topic("alerts")!.partitions[0])
    sampler = StatusSampler()
    drainDeadline = DrainDeadline(limitMs: Int(config.shutdownTimeoutMs) + Self.cancellationMarginMs)
  }

  /// How long past the shutdown timeout the daemon waits for components that ignore
  /// cancellation before it gives up on them (``DrainDeadline``).
  static let cancellationMarginMs = 5000

  /// Runs until SIGTERM or SIGINT, then drains in order and returns (the log closed cleanly).
  ///
  /// The drain has `shutdown_timeout`; then the group cancels what is still running. If that has
  /// not ended within ``cancellationMarginMs`` either, this logs `critical` and throws
  /// ``DrainTimedOut`` without closing the log (a component may still be using it; the next
  /// start recovers, as after a crash), so that `weir run` exits 1 and systemd restarts it.
  public func run() async throws {
    let lifecycle = logger.child("weir.lifecycle")
    let services = try serviceList().map { entry in
      ServiceGroupConfiguration.ServiceConfiguration(
        service: entry.supervised
          ? SupervisedService(entry.name, store: store, logger: lifecycle, entry.service) : entry.service,
        successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup,
        serviceName: entry.name)
    }
    var groupConfig = ServiceGroupConfiguration(
      services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: lifecycle)
    groupConfig.maximumGracefulShutdownDuration = .milliseconds(config.shutdownTimeoutMs)
    // The library's own last resort (a fatalError) if even the deadline below did not end the
    // wait; normally the daemon gives up first, with a log line and exit code 1.
    groupConfig.maximumCancellationDuration = .milliseconds(2 * Self.cancellationMarginMs)
    let group = ServiceGroup(configuration: groupConfig)
    logger.info(
      "weir started",
      metadata: [
        "gateway": "\(config.gatewayID)", "data_dir": "\(config.dataDirectory)",
        "http": "\(config.httpHost):\(config.httpPort)", "mqtt_sources": "\(mqttSources.count)",
        "serial_sources": "\(serialSources.count + modbusSources.count)", "uplinks": "\(config.uplinks.count)",
        "rules": "\(ruleCount)",
      ])
    var failure: (any Error)?
    do {
      try await drainDeadline.run { try await group.run() }
    } catch let timeout as DrainTimedOut {
      logger.critical(
        "the drain did not finish within the shutdown timeout; exiting", metadata: ["error": "\(timeout)"])
      throw timeout
    } catch {
      failure = error
    }
    // Every component has stopped: flush, fsync, save recovery points, mark the stop clean.
    do {
      try store.close()
    } catch {
      logger.error("closing the log failed", metadata: ["error": "\(error)"])
      failure = failure ?? error
    }
    if let failure {
      logger.error("weir stopped after a failure", metadata: ["error": "\(failure)"])
      throw failure
    }
    logger.info("weir stopped cleanly")
  }

  /// Reads the rule files again and hands them to the rule service.
  func reloadRules(_ service: RuleService) {
    var files: [(source: String, fileName: String)] = []
    for file in config.ruleFiles {
      guard let source = try? String(contentsOfFile: file, encoding: .utf8) else {
        logger.error("rules reload: cannot read \(file); keeping the running rules")
        return
      }
      files.append((source, file))
    }
    logger.info("SIGHUP: reloading rules", metadata: ["files": "\(config.ruleFiles)"])
    service.reload(files: files) { [logger] report in
      for error in report.refused {
        logger.error("rules reload refused a rule", metadata: ["error": "\(error.description)"])
      }
    }
  }
}

extension Logger {
  /// The same handler and level under another label.
  func child(_ label: String) -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = logLevel
    return logger
  }
}
