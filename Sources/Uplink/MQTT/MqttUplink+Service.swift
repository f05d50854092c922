public import ServiceLifecycle

extension MqttUplink: Service {
  /// ``runUntilStopped()`` as a lifecycle `Service`: graceful shutdown calls ``stop()``, and this
  /// returns once PUBACKs in flight are in (or the shutdown grace is over) and the cursors are
  /// committed.
  public func run() async throws {
    try await withGracefulShutdownHandler(operation: runUntilStopped, onGracefulShutdown: stop)
  }
}
