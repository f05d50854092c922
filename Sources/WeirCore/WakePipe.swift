import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Why a wake pipe could not be made (out of file descriptors, as a rule).
public struct WakePipeError: Error, CustomStringConvertible {
  public let errno: Int32
  public var description: String { "cannot create a wake-up pipe: \(String(cString: strerror(errno)))" }
}

/// The one way to wake a thread out of `poll(2)`: a non-blocking pipe whose read end sits in the thread's poll set.
///
/// ``signal()`` writes one byte, and only the first signal after a ``clear()`` writes at all, so a burst of signals
/// costs one syscall. A thread that never clears it sees it as a latch (a stop request stays visible to every later
/// wait); a thread that waits for work calls ``clear()`` before looking for work, then ``wait(timeoutMs:)`` if it found
/// none. Others may write to ``writeFD`` directly (librdkafka's queue IO event does).
public final class WakePipe: Sendable {
  public let readFD: Int32
  public let writeFD: Int32
  private let pending = Atomic<Bool>(false)

  public init() throws(WakePipeError) {
    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0 else { throw WakePipeError(errno: errno) }
    readFD = fds[0]
    writeFD = fds[1]
    for fd in fds {
      _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
      _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
    }
  }

  deinit {
    close(readFD)
    close(writeFD)
  }

  /// Wakes the waiting thread (or makes its next wait return at once). Safe from any thread.
  public func signal() {
    guard !pending.exchange(true, ordering: .acquiringAndReleasing) else { return }
    var byte: UInt8 = 1
    _ = write(writeFD, &byte, 1)
  }

  /// Forgets earlier signals.
  public func clear() {
    pending.store(false, ordering: .releasing)
    var buffer = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
    while withUnsafeMutableBytes(of: &buffer, { read(readFD, $0.baseAddress, $0.count) }) > 0 {}
  }

  /// Blocks until a signal or `timeoutMs` passes; true when signalled.
  @discardableResult
  public func wait(timeoutMs: Int) -> Bool {
    var fd = pollfd(fd: readFD, events: Int16(POLLIN), revents: 0)
    return poll(&fd, 1, Int32(clamping: max(0, timeoutMs))) > 0
  }
}
