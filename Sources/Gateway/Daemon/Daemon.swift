import Foundation
import Ingest
public import Logging
import MQTT
import PartitionedLog
public import Prometheus
import Rules
import RulesService
import ServiceLifecycle
import Synchronization
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
public final class Daemon: @unchecked Sendable {
  public let config: GatewayConfig
  let logger: Logger
  let store: LogStore
  let registry: PrometheusCollectorRegistry
  let mqttSources: [MQTTSource]
  let serialSources: [SerialLineSource]
  let modbusSources: [ModbusSource]
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
    mqttSources = config.mqttSources.map {
      MQTTSource(config: $0, store: store, logger: logger.child("weir.ingest.mqtt"))
    }
    serialSources = try config.serialSources.map {
      try SerialLineSource(
        port: $0.port, lineProtocol: $0.lineProtocol, store: store, logger: logger.child("weir.serial"))
    }
    modbusSources = try config.modbusSources.map {
      try ModbusSource(config: $0, store: store, logger: logger.child("weir.modbus"))
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

    if config.publishAlerts, let local = config.mqttSources.first, !ruleSources.isEmpty {
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
  }

  /// Runs until SIGTERM or SIGINT, then drains in order and returns (the log closed cleanly).
  public func run() async throws {
    var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
    func add(_ name: String, _ service: some Service) {
      services.append(
        .init(
          service: service, successTerminationBehavior: .gracefullyShutdownGroup,
          failureTerminationBehavior: .gracefullyShutdownGroup, serviceName: name))
    }
    // Shut down in reverse order: sources first, then rules, uplinks and HTTP; the log closes after.
    add("http", try APIServer(daemon: self).application())
    add(
      "sampler",
      ComponentService { [self] in
        var metrics = DaemonMetrics()
        let watchdog = SystemdNotify.watchdogEnabled()
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
          sample(into: &metrics)
          // The sampler reads every component's state; if it runs, the daemon is not wedged.
          if watchdog { SystemdNotify.send("WATCHDOG=1") }
          _ = try? await cancelWhenGracefulShutdown {
            try await Task.sleep(for: .milliseconds(Int(StatusSampler.intervalMs)))
          }
        }
      } onShutdown: {
      })
    if let ruleService {
      add(
        "rules-reload",
        ComponentService { [self] in
          for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            reloadRules(ruleService)
          }
        } onShutdown: {
        })
    }
    // Components restart with back-off when they fail; only the log failing stops the daemon.
    func supervise(
      _ name: String, _ body: @escaping @Sendable () async throws -> Void, stop: @escaping @Sendable () -> Void
    ) {
      add(name, SupervisedService(name, store: store, logger: logger.child("weir.lifecycle"), body, onShutdown: stop))
    }
    for uplink in kafkaUplinks {
      supervise("uplink:\(uplink.name)", { try await uplink.run() }, stop: { uplink.stop() })
    }
    for uplink in mqttUplinks {
      supervise("uplink:\(uplink.name)", { try await uplink.run() }, stop: { uplink.stop() })
    }
    if let alertPublisher {
      add(
        "alerts-mqtt",
        ComponentService {
          alertPublisher.start()
          try? await gracefulShutdown()
          alertPublisher.stop()
        } onShutdown: {
        })
    }
    if let ruleService { supervise("rules", { try await ruleService.run() }, stop: { ruleService.stop() }) }
    for source in modbusSources {
      supervise("modbus:\(source.status.port.path)", { try await source.run() }, stop: { source.stop() })
    }
    for source in serialSources {
      supervise("serial:\(source.status.path)", { try await source.run() }, stop: { source.stop() })
    }
    for source in mqttSources {
      supervise("mqtt:\(source.config.name)", { try await source.run() }, stop: { source.stop() })
    }
    let deadline = config.shutdownTimeoutMs
    add(
      "watchdog",
      ComponentService { [logger] in
        try? await gracefulShutdown()
        SystemdNotify.send("STOPPING=1")
        logger.info(
          "draining: stopping sources, then rules, uplinks and the log", metadata: ["deadline_ms": "\(deadline)"])
        OwnedThread.start(name: "weir-watchdog") {
          usleep(useconds_t(min(deadline + 5000, 3_600_000) * 1000))
          logger.critical("the drain did not finish within the shutdown timeout; exiting")
          exit(1)
        }
      } onShutdown: {
      })

    var groupConfig = ServiceGroupConfiguration(
      services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger.child("weir.lifecycle"))
    groupConfig.maximumGracefulShutdownDuration = .milliseconds(deadline)
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
      try await group.run()
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

/// Adapts a component with `run()` and `stop()` to a lifecycle `Service`: graceful shutdown calls
/// `stop`, and `run` returns once the component has drained.
struct ComponentService: Service {
  let body: @Sendable () async throws -> Void
  let onShutdown: @Sendable () -> Void

  init(_ body: @escaping @Sendable () async throws -> Void, onShutdown: @escaping @Sendable () -> Void) {
    self.body = body
    self.onShutdown = onShutdown
  }

  func run() async throws {
    try await withGracefulShutdownHandler {
      try await body()
    } onGracefulShutdown: {
      onShutdown()
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
