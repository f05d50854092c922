public import ServiceLifecycle

extension ModbusSource: Service {
  /// ``runUntilStopped()`` as a lifecycle `Service`: graceful shutdown calls ``stop()`` (a request
  /// in flight is abandoned), and this returns once what was polled is committed.
  public func run() async throws {
    try await withGracefulShutdownHandler(operation: runUntilStopped, onGracefulShutdown: stop)
  }
}
