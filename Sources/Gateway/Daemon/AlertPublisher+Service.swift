import ServiceLifecycle

extension AlertPublisher: Service {
  /// Starts the publisher's thread and waits for graceful shutdown (or cancellation); then sends
  /// what is queued for up to a second, disconnects and returns.
  func run() async throws {
    start()
    try? await gracefulShutdown()
    stop()
  }
}
