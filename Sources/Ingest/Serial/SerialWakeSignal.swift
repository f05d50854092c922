import SystemPackage

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Wakes a source thread out of `poll(2)` at once when ``SerialLineSource/stop()`` is called: the
/// read end of a pipe sits in every poll set, including the back-off sleep between reopens.
final class SerialWakeSignal: Sendable {
  let readEnd: FileDescriptor
  let writeEnd: FileDescriptor

  init() throws(SerialError) {
    (readEnd, writeEnd) = try SerialPosix.makePipe()
  }

  deinit {
    SerialPosix.close(readEnd)
    SerialPosix.close(writeEnd)
  }

  /// Makes the next (or current) wait return. Safe from any thread.
  func wake() {
    var byte: UInt8 = 1
    _ = withUnsafeBytes(of: &byte) { try? SerialPosix.write(writeEnd, $0, "wake-up pipe") }
  }

  /// Empties the pipe so a later wait blocks again.
  func drain() {
    var scratch: (UInt64, UInt64) = (0, 0)
    withUnsafeMutableBytes(of: &scratch) { buffer in
      while let n = try? SerialPosix.read(readEnd, into: buffer, "wake-up pipe"), n > 0 {}
    }
  }

  /// Sleeps up to `milliseconds`; returns early (true) when woken.
  @discardableResult
  func sleep(milliseconds: Int) -> Bool {
    var fds = [pollfd(fd: readEnd.rawValue, events: Int16(POLLIN), revents: 0)]
    let ready = (try? SerialPosix.poll(&fds, timeoutMs: Int32(clamping: max(0, milliseconds)), "wake-up pipe")) ?? 0
    return ready > 0
  }
}
