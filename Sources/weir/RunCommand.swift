import ArgumentParser
import Foundation
import Gateway
import Logging
import Metrics
import Prometheus
import WeirCore

struct RunCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run",
    abstract: "Run the gateway: sources, log, uplinks, rules and the HTTP API, until SIGTERM or SIGINT.",
    discussion: """
      SIGTERM and SIGINT drain in order (sources, rules, uplinks, then the log is fsynced and closed) \
      and exit 0, or exit 1 if the drain has not finished 5 s after gateway.shutdown_timeout; SIGHUP \
      reloads the rule files. A configuration with errors is refused with exit \
      code 2 and every error as file:line: key: message.
      """)

  @Option(name: .shortAndLong, help: "The configuration file.")
  var config: String = "/etc/weir/weir.yaml"

  @Option(help: "text or json (one JSON object per line, for journald or a log shipper).")
  var logFormat: LogFormat = .text

  @Option(help: "trace, debug, info, notice, warning, error or critical.")
  var logLevel: String = "info"

  enum LogFormat: String, ExpressibleByArgument { case text, json }

  func run() async throws {
    let level = Logger.Level(rawValue: logLevel) ?? .info
    let format = logFormat
    LoggingSystem.bootstrap { label in
      var handler: any LogHandler =
        format == .json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
      handler.logLevel = level
      return handler
    }
    var logger = Logger(label: "weir")
    logger.logLevel = level
    let registry = PrometheusCollectorRegistry()
    MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))

    let gatewayConfig: GatewayConfig
    do {
      gatewayConfig = try GatewayConfig.load(path: config)
    } catch let error as ConfigError {
      FileHandle.standardError.write(Data((error.description + "\n").utf8))
      throw ExitCode(2)
    }
    for warning in gatewayConfig.warnings {
      logger.warning(
        "configuration: \(warning.key): \(warning.message)",
        metadata: ["file": "\(warning.file)", "line": "\(warning.line)"])
    }
    let daemon: Daemon
    do {
      daemon = try Daemon(config: gatewayConfig, registry: registry, logger: logger)
    } catch let error as ConfigError {
      FileHandle.standardError.write(Data((error.description + "\n").utf8))
      throw ExitCode(2)
    } catch {
      logger.critical("weir could not start", metadata: ["error": "\(error)"])
      throw ExitCode(1)
    }
    do {
      try await daemon.run()
    } catch {
      // The daemon has logged why (a drain that timed out at `critical`); systemd restarts it.
      throw ExitCode(1)
    }
  }
}
