import Foundation

/// Runs a source's blocking loop on a thread of its own (never on the cooperative pool) and lets
/// an async `run()` await it: task cancellation calls `stop`, and the loop's result (return or
/// error) resumes the caller once the thread is done.
enum SerialThread {
  static func run(
    name: String, stop: @escaping @Sendable () -> Void, _ body: @escaping @Sendable () throws -> Void
  ) async throws {
    try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
        let thread = Thread {
          do {
            try body()
            continuation.resume()
          } catch {
            continuation.resume(throwing: error)
          }
        }
        thread.name = name
        thread.start()
      }
    } onCancel: {
      stop()
    }
  }
}
