import Synchronization

/// Status shared between a source thread, which updates it once per read pass, and readers on
/// any thread.
final class StatusBox<Status: Sendable>: Sendable {
  private let state: Mutex<Status>

  init(_ initial: Status) { state = Mutex(initial) }

  var value: Status { state.withLock { $0 } }

  func update(_ body: (inout Status) -> Void) {
    state.withLock { body(&$0) }
  }
}
