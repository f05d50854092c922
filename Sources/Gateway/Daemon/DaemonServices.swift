import Ingest
import Logging
import RulesService
import ServiceLifecycle
import UnixSignals
import Uplink

/// One entry of the daemon's service list: the name the group logs it under, the component, and
/// whether it is supervised (restarted with back-off when it fails; see ``SupervisedService``) or
/// run as it is.
struct DaemonService {
  let name: String
  let service: any Service
  let supervised: Bool

  init(_ name: String, _ service: any Service, supervised: Bool = false) {
    self.name = name
    self.service = service
    self.supervised = supervised
  }
}

extension Daemon {
  /// Every long-lived part of the daemon, in start order. The group shuts them down in reverse, so
  /// the drain goes: the drain notice, the listeners, the sources (MQTT, serial, Modbus), the rules, the alert
  /// publisher, the uplinks, then the rules reload, the sampler and HTTP. The log closes after the
  /// group has returned.
  func serviceList() throws -> [DaemonService] {
    var list = [
      DaemonService("http", try APIServer(daemon: self).application()),
      DaemonService("sampler", StatusSamplerService(daemon: self)),
    ]
    if let ruleService {
      list.append(DaemonService("rules-reload", RulesReloadService(daemon: self, rules: ruleService)))
    }
    list += kafkaUplinks.map { DaemonService("uplink:\($0.name)", $0, supervised: true) }
    list += mqttUplinks.map { DaemonService("uplink:\($0.name)", $0, supervised: true) }
    if let alertPublisher { list.append(DaemonService("alerts-mqtt", alertPublisher)) }
    if let ruleService { list.append(DaemonService("rules", ruleService, supervised: true)) }
    list += modbusSources.map { DaemonService("modbus:\($0.status.port.path)", $0, supervised: true) }
    list += serialSources.map { DaemonService("serial:\($0.status.path)", $0, supervised: true) }
    list += mqttSources.map { DaemonService("mqtt:\($0.config.name)", $0, supervised: true) }
    list += listeners.map { DaemonService("listener:\($0.config.name)", $0, supervised: true) }
    list.append(
      DaemonService("drain", DrainNotice(deadlineMs: config.shutdownTimeoutMs, logger: logger, deadline: drainDeadline))
    )
    return list
  }
}

/// Samples every component's state into the metrics and the status history every
/// `StatusSampler.intervalMs`, and tells systemd's watchdog that the daemon is alive.
struct StatusSamplerService: Service {
  let daemon: Daemon

  func run() async throws {
    var metrics = DaemonMetrics()
    let watchdog = SystemdNotify.watchdogEnabled()
    while !Task.isCancelled && !Task.isShuttingDownGracefully {
      daemon.sample(into: &metrics)
      // The sampler reads every component's state; if it runs, the daemon is not wedged.
      if watchdog { SystemdNotify.send("WATCHDOG=1") }
      _ = try? await cancelWhenGracefulShutdown {
        try await Task.sleep(for: .milliseconds(Int(StatusSampler.intervalMs)))
      }
    }
  }
}

/// Reloads the rule files on each SIGHUP until graceful shutdown.
struct RulesReloadService: Service {
  let daemon: Daemon
  let rules: RuleService

  func run() async throws {
    for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
      daemon.reloadRules(rules)
    }
  }
}

/// The first service the group shuts down (it is last in the list): when the drain begins it
/// tells systemd `STOPPING=1`, logs it and arms the daemon's ``DrainDeadline``.
struct DrainNotice: Service {
  let deadlineMs: Int64
  let logger: Logger
  let deadline: DrainDeadline

  func run() async throws {
    try? await gracefulShutdown()
    SystemdNotify.send("STOPPING=1")
    logger.info(
      "draining: stopping sources, then rules, uplinks and the log", metadata: ["deadline_ms": "\(deadlineMs)"])
    deadline.arm()
  }
}
