public import ServiceLifecycle

extension KafkaUplink: Service {
  /// ``runUntilStopped()`` as a lifecycle `Service`: graceful shutdown calls ``stop()``, and this
  /// returns once records in flight are confirmed (or the shutdown grace is over) and the cursors
  /// are committed.
  public func run() async throws {
    try await withGracefulShutdownHandler(operation: runUntilStopped, onGracefulShutdown: stop)
  }
}
