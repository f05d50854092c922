import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// Wakes the uplink's thread from `poll(2)`: a non-blocking pipe that log watchers, transports and
/// librdkafka (through its queue IO event) write a byte to.
final class Wakeup: Sendable {
  let readFD: Int32
  /// Where others write a byte; librdkafka gets it directly.
  let writeFD: Int32
  private let pending = Atomic<Bool>(false)

  init() throws(UplinkError) {
    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0 else {
      throw UplinkError(.transport, "cannot create the uplink's wake-up pipe: \(String(cString: strerror(errno)))")
    }
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

  /// Wakes the waiting thread (or makes its next wait return at once).
  func signal() {
    guard !pending.exchange(true, ordering: .acquiringAndReleasing) else { return }
    var byte: UInt8 = 1
    _ = write(writeFD, &byte, 1)
  }

  /// Forgets earlier signals: call before looking for work, then ``wait(timeoutMs:)`` if there was none.
  func clear() {
    pending.store(false, ordering: .releasing)
    var buffer = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
    while withUnsafeMutableBytes(of: &buffer, { read(readFD, $0.baseAddress, $0.count) }) > 0 {}
  }

  /// Blocks until a signal or `timeoutMs` passes.
  func wait(timeoutMs: Int32) {
    var fd = pollfd(fd: readFD, events: Int16(POLLIN), revents: 0)
    _ = poll(&fd, 1, max(0, timeoutMs))
  }
}
