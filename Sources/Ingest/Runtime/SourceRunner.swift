import Synchronization
import WeirCore

/// The run-and-stop part every source shares, so a source is only its protocol: one run at a time on a thread of
/// its own (``OwnedThread``; cancelling the awaiting task stops it), a stop flag, and a ``WakePipe`` that ends the
/// source's back-off and retry sleeps (and its `poll(2)`, where the pipe sits in the poll set) the moment ``stop()``
/// is called. A run that has ended does not block the next: the supervisor restarts a source whose run failed.
final class SourceRunner: Sendable {
  /// The loop thread's name (`weir-serial`, `weir-mqtt-<name>`).
  let threadName: String
  /// Signalled by ``stop()`` and never cleared: a stopping source sees it in every wait.
  let wake: WakePipe
  private let stopping = Atomic<Bool>(false)
  private let started = Atomic<Bool>(false)

  init(threadName: String) throws(WakePipeError) {
    self.threadName = threadName
    wake = try WakePipe()
  }

  /// For the serial sources, whose errors are ``SerialError``s.
  static func serial(threadName: String) throws(SerialError) -> SourceRunner {
    do {
      return try SourceRunner(threadName: threadName)
    } catch {
      throw SerialError.system("create wake-up pipe", errno: error.errno)
    }
  }

  /// Whether ``stop()`` was called.
  var isStopping: Bool { stopping.load(ordering: .relaxed) }

  /// Asks the loop to stop and wakes it. Safe from any thread, any number of times.
  func stop() {
    stopping.store(true, ordering: .relaxed)
    wake.signal()
  }

  /// Sleeps up to `ms`, ending at once when stopped.
  func sleep(ms: Int) { wake.wait(timeoutMs: ms) }

  /// Runs `loop` on the source's thread until it returns or throws; `alreadyRunning` is thrown when a run is going on.
  func run(alreadyRunning: @autoclosure () -> any Error, _ loop: @escaping @Sendable () throws -> Void) async throws {
    guard !started.exchange(true, ordering: .acquiringAndReleasing) else { throw alreadyRunning() }
    defer { started.store(false, ordering: .releasing) }
    try await OwnedThread(name: threadName, stop: { [self] in stop() }, loop).runUntilStopped()
  }

  /// Starts `loop` on the source's thread for callers that are not async; `onExit` runs there when it ends.
  func start(
    alreadyRunning: @autoclosure () -> any Error, _ loop: @escaping @Sendable () throws -> Void,
    onExit: @escaping @Sendable (Result<Void, any Error>) -> Void
  ) {
    guard !started.exchange(true, ordering: .acquiringAndReleasing) else { return onExit(.failure(alreadyRunning())) }
    OwnedThread.start(name: threadName) { [self] in
      let result = Result { try loop() }
      started.store(false, ordering: .releasing)
      onExit(result)
    }
  }
}
