import Synchronization

/// The drain took longer than the shutdown timeout and the cancellation margin together: some
/// component ignored both graceful shutdown and cancellation.
public struct DrainTimedOut: Error, CustomStringConvertible {
  public let afterMs: Int

  public var description: String {
    "the drain did not finish within \(afterMs) ms (the shutdown timeout and the cancellation margin)"
  }
}

/// Bounds how long the daemon waits for its service group once the drain has begun. The group
/// itself escalates to cancellation after the shutdown timeout (`maximumGracefulShutdownDuration`);
/// a component that ignores cancellation too would keep the group, and the process, running. So
/// ``run(_:)`` runs the group in a task of its own and, `limitMs` after ``arm()``, stops waiting
/// and throws ``DrainTimedOut``; the caller exits non-zero and the group is abandoned with the
/// process.
final class DrainDeadline: Sendable {
  let limitMs: Int
  private let state = Mutex(State())

  private struct State {
    /// The first outcome: the group's, or the timeout.
    var outcome: Result<Void, any Error>?
    /// Who waits in ``run(_:)`` for the outcome.
    var waiter: CheckedContinuation<Void, any Error>?
    var armed = false
    var timer: Task<Void, Never>?
  }

  init(limitMs: Int) {
    self.limitMs = limitMs
  }

  /// Runs `body` (the group) until it returns or throws, or until `limitMs` after ``arm()``.
  /// Cancelling the caller cancels `body` and arms the deadline.
  func run(_ body: @escaping @Sendable () async throws -> Void) async throws {
    let work = Task {
      do {
        try await body()
        finish(.success(()))
      } catch {
        finish(.failure(error))
      }
    }
    try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
        let outcome = state.withLock { state in
          if state.outcome == nil { state.waiter = continuation }
          return state.outcome
        }
        if let outcome { continuation.resume(with: outcome) }
      }
    } onCancel: {
      work.cancel()
      arm()
    }
  }

  /// Starts the clock (once; later calls do nothing).
  func arm() {
    let limitMs = limitMs
    state.withLock { state in
      guard !state.armed, state.outcome == nil else { return }
      state.armed = true
      state.timer = Task { [self] in
        guard (try? await Task.sleep(for: .milliseconds(limitMs))) != nil else { return }
        finish(.failure(DrainTimedOut(afterMs: limitMs)))
      }
    }
  }

  private func finish(_ outcome: Result<Void, any Error>) {
    let (waiter, timer) = state.withLock { state -> (CheckedContinuation<Void, any Error>?, Task<Void, Never>?) in
      guard state.outcome == nil else { return (nil, nil) }
      state.outcome = outcome
      defer {
        state.waiter = nil
        state.timer = nil
      }
      return (state.waiter, state.timer)
    }
    timer?.cancel()
    waiter?.resume(with: outcome)
  }
}
