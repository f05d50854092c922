public import ServiceLifecycle

extension SerialLineSource: Service {
  /// ``runUntilStopped()`` as a lifecycle `Service`: graceful shutdown calls ``stop()``, and this
  /// returns once what was read is framed and committed.
  public func run() async throws {
    try await withGracefulShutdownHandler(operation: runUntilStopped, onGracefulShutdown: stop)
  }
}
