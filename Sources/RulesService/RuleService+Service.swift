public import ServiceLifecycle
import WeirCore

extension RuleService: Service {
  /// ``runUntilStopped()`` as a lifecycle `Service`: graceful shutdown calls ``stop()``, and this
  /// returns after the final checkpoint.
  public func run() async throws {
    try await thread.run()
  }
}
