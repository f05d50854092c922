import Foundation
public import ServiceLifecycle
import Synchronization

/// Threads the package owns, outside Swift's cooperative pool: every blocking loop (a source
/// reading a socket or a port, the rule service, an uplink's send loop, the log's background
/// work) runs on one of these, never on the pool's few threads. The one place that starts a
/// `Thread`.
///
/// An `OwnedThread` value is a lifecycle `Service`, as an event loop group owns its threads in
/// SwiftNIO: `run()` starts `body` on a thread of its own and returns when `body` does; graceful
/// shutdown and cancellation both call `stop`, which must make `body` return soon. A component
/// whose work is one blocking loop is that loop's `OwnedThread` (its `Service.run()` is
/// `thread.run()`); `start`, `run(name:...)` and `runAll` serve the rest.
public struct OwnedThread: Service {
  /// The thread's name (`weir-rules`, `weir-serial`, ...), as `top -H` and a debugger show it.
  public let name: String
  /// In bytes; nil for the system's default.
  public let stackSize: Int?
  private let stop: @Sendable () -> Void
  private let body: @Sendable () throws -> Void

  public init(
    name: String, stackSize: Int? = nil, stop: @escaping @Sendable () -> Void,
    _ body: @escaping @Sendable () throws -> Void
  ) {
    self.name = name
    self.stackSize = stackSize
    self.stop = stop
    self.body = body
  }

  /// Runs `body` on its thread until it returns (rethrowing what it throws); graceful shutdown or
  /// cancellation calls `stop`.
  public func run() async throws {
    try await withGracefulShutdownHandler(operation: runUntilStopped, onGracefulShutdown: stop)
  }

  /// ``run()`` without graceful shutdown: only cancellation calls `stop` (callers outside a
  /// service group, and tests).
  public func runUntilStopped() async throws {
    try await Self.run(name: name, stackSize: stackSize, stop: stop, body)
  }

  /// Starts `body` on a new thread named `name`; the caller learns of its end some other way.
  /// `stackSize` in bytes, nil for the system's default.
  public static func start(name: String, stackSize: Int? = nil, _ body: @escaping @Sendable () -> Void) {
    let thread = Thread {
      nameKernelThread(name)
      body()
    }
    thread.name = name
    if let stackSize { thread.stackSize = stackSize }
    thread.start()
  }

  /// Runs the blocking `body` on a thread of its own and awaits its result. Cancelling the
  /// awaiting task calls `stop`, which must make `body` return soon.
  public static func run<T: Sendable>(
    name: String, stackSize: Int? = nil, stop: @escaping @Sendable () -> Void = {},
    _ body: @escaping @Sendable () throws -> T
  ) async throws -> T {
    try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        start(name: name, stackSize: stackSize) { continuation.resume(with: Result { try body() }) }
      }
    } onCancel: {
      stop()
    }
  }

  /// Runs `body(i)` for `i` in `0..<count`, each on a thread of its own, waits for all and
  /// rethrows the first error (benchmarks' appenders and publishers).
  public static func runAll(
    _ count: Int, name: String, stackSize: Int? = nil, _ body: @escaping @Sendable (Int) throws -> Void
  ) throws {
    let failure = Mutex<(any Error)?>(nil)
    let done = DispatchSemaphore(value: 0)
    for i in 0..<count {
      start(name: "\(name)-\(i)", stackSize: stackSize) {
        do { try body(i) } catch { failure.withLock { $0 = $0 ?? error } }
        done.signal()
      }
    }
    for _ in 0..<count { done.wait() }
    if let first = failure.withLock({ $0 }) { throw first }
  }
}

/// Gives the calling thread `name` (its first 15 bytes) in the kernel, where `top -H`, `ps -L` and
/// debuggers read it. Foundation on Linux does not: a name set before `start()` stays on the
/// `Thread` object, and setting it from inside races with `start()` recording the thread, so the
/// new thread kept its creator's name (`oot.default-qos`, the end of Dispatch's
/// `com.apple.root.default-qos`). Writing `/proc/thread-self/comm` is the kernel's own interface
/// for it (`prctl(PR_SET_NAME)` is variadic, out of Swift's reach).
private func nameKernelThread(_ name: String) {
  let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
  guard fd >= 0 else { return }
  defer { close(fd) }
  let bytes = Array(name.utf8.prefix(15))
  _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
}
