public import ServiceLifecycle

extension MQTTSource: Service {
  /// ``runUntilStopped()`` as a lifecycle `Service`: graceful shutdown calls ``stop()``, and this
  /// returns once the last pass is committed, acknowledged and the client disconnected.
  public func run() async throws {
    try await withGracefulShutdownHandler(operation: runUntilStopped, onGracefulShutdown: stop)
  }
}
