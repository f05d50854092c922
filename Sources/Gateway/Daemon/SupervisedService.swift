import Logging
import Metrics
import PartitionedLog
import ServiceLifecycle
import WeirCore

/// Keeps one component of the daemon running: when its `run` fails (or ends unasked), it is
/// logged, counted in `weir_service_restarts_total{service}` and started again after a back-off
/// (250 ms doubling to 30 s, reset after a minute of good running). Only the log failing ends the
/// daemon: then the error is thrown and the group shuts down, since nothing can be ingested or
/// acknowledged any more. The component handles graceful shutdown itself (its `run` calls its
/// `stop` and returns once drained); a shutdown during the back-off ends the wait.
struct SupervisedService: Service {
  let name: String
  let store: LogStore
  let logger: Logger
  let service: any Service

  static let initialDelayMs = 250
  static let maxDelayMs = 30_000
  /// A run this long counts as healthy: the next failure starts the back-off again.
  static let healthyAfterMs: Int64 = 60_000

  init(_ name: String, store: LogStore, logger: Logger, _ service: any Service) {
    self.name = name
    self.store = store
    self.logger = logger
    self.service = service
  }

  func run() async throws {
    let restarts = Counter(label: "weir_service_restarts_total", dimensions: [("service", name)])
    var backoff = Backoff(initialMs: Self.initialDelayMs, maxMs: Self.maxDelayMs, jitter: 0)
    while !Task.isCancelled && !Task.isShuttingDownGracefully {
      let started = ContinuousClock.now
      var failure: (any Error)?
      do {
        try await service.run()
      } catch {
        failure = error
      }
      if Task.isCancelled || Task.isShuttingDownGracefully { return }
      if let broken = store.failure {
        logger.critical(
          "the log has failed; stopping the daemon (a restart recovers from what is on disk)",
          metadata: ["service": "\(name)", "error": "\(broken)"])
        throw broken
      }
      if started.duration(to: .now) > .milliseconds(Self.healthyAfterMs) { backoff.reset() }
      let wait = backoff.nextDelayMs()
      restarts.increment()
      logger.error(
        "service stopped; restarting",
        metadata: [
          "service": "\(name)", "error": "\(failure.map { "\($0)" } ?? "it returned without being asked to stop")",
          "retry_ms": "\(wait)",
        ])
      _ = try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(wait)) }
    }
  }
}
