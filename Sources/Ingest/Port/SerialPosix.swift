import SystemPackage

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// The one place serial ingest makes system calls: each retries `EINTR` and throws a
/// ``SerialError`` carrying `errno` and what was being done (as swift-nio's `Posix` does).
/// File descriptors are swift-system `FileDescriptor`s; termios, poll and ioctl go to libc.
enum SerialPosix {
  /// Calls `body` until it returns something other than -1 with `EINTR`.
  @inline(__always)
  static func call(_ what: @autoclosure () -> String, _ body: () -> Int32) throws(SerialError) -> Int32 {
    while true {
      let result = body()
      if result != -1 { return result }
      let code = errno
      if code == EINTR { continue }
      throw SerialError.system(what(), errno: code)
    }
  }

  /// Opens a terminal device read-write, non-blocking, without making it the controlling terminal.
  static func openTerminal(_ path: String) throws(SerialError) -> FileDescriptor {
    do {
      return try FileDescriptor.open(
        FilePath(path), .readWrite,
        options: [.nonBlocking, .closeOnExec, FileDescriptor.OpenOptions(rawValue: O_NOCTTY)],
        retryOnInterrupt: true)
    } catch let error as Errno {
      throw SerialError.system("open \(path)", errno: error.rawValue)
    } catch {
      throw SerialError(.io, "open \(path): \(error)")
    }
  }

  static func close(_ fd: FileDescriptor) {
    try? fd.close()
  }

  /// Reads what is available; nil when nothing is (`EAGAIN`). A return of 0 is end of file.
  @inline(__always)
  static func read(
    _ fd: FileDescriptor, into buffer: UnsafeMutableRawBufferPointer, _ what: @autoclosure () -> String
  ) throws(SerialError) -> Int? {
    while true {
      let n = Glibc.read(fd.rawValue, buffer.baseAddress, buffer.count)
      if n >= 0 { return n }
      let code = errno
      if code == EINTR { continue }
      if code == EAGAIN || code == EWOULDBLOCK { return nil }
      throw SerialError.system("read \(what())", errno: code)
    }
  }

  /// Writes what the device accepts now; 0 when its queue is full (`EAGAIN`).
  static func write(
    _ fd: FileDescriptor, _ bytes: UnsafeRawBufferPointer, _ what: @autoclosure () -> String
  ) throws(SerialError) -> Int {
    while true {
      let n = Glibc.write(fd.rawValue, bytes.baseAddress, bytes.count)
      if n >= 0 { return n }
      let code = errno
      if code == EINTR { continue }
      if code == EAGAIN || code == EWOULDBLOCK { return 0 }
      throw SerialError.system("write \(what())", errno: code)
    }
  }

  /// Waits for events on `fds` for at most `timeoutMs` (-1: forever); returns how many are ready.
  static func poll(_ fds: inout [pollfd], timeoutMs: Int32, _ what: @autoclosure () -> String) throws(SerialError)
    -> Int
  {
    let count = nfds_t(fds.count)
    while true {
      let n = fds.withUnsafeMutableBufferPointer { Glibc.poll($0.baseAddress, count, timeoutMs) }
      if n >= 0 { return Int(n) }
      let code = errno
      if code == EINTR { return 0 }  // a signal: the caller re-checks its state and waits again
      throw SerialError.system("poll \(what())", errno: code)
    }
  }

  static func getAttributes(_ fd: FileDescriptor, _ what: @autoclosure () -> String) throws(SerialError) -> termios {
    var attributes = termios()
    _ = try call("read terminal settings of \(what())") { tcgetattr(fd.rawValue, &attributes) }
    return attributes
  }

  static func setAttributes(_ fd: FileDescriptor, _ attributes: termios, _ what: @autoclosure () -> String)
    throws(SerialError)
  {
    var attributes = attributes
    _ = try call("apply terminal settings to \(what())") { tcsetattr(fd.rawValue, TCSANOW, &attributes) }
  }

  /// Discards bytes received but not read (`TCIFLUSH`).
  static func discardInput(_ fd: FileDescriptor, _ what: @autoclosure () -> String) throws(SerialError) {
    _ = try call("flush input of \(what())") { tcflush(fd.rawValue, TCIFLUSH) }
  }

  static func ioctl(_ fd: FileDescriptor, _ request: Int32, _ what: @autoclosure () -> String) throws(SerialError) {
    _ = try call(what()) { Glibc.ioctl(fd.rawValue, UInt(request)) }
  }

  /// Sleeps the calling thread (a source thread, never the cooperative pool).
  static func sleep(milliseconds: Int) {
    sleep(microseconds: milliseconds * 1000)
  }

  static func sleep(microseconds: Int) {
    guard microseconds > 0 else { return }
    var request = timespec(tv_sec: microseconds / 1_000_000, tv_nsec: (microseconds % 1_000_000) * 1000)
    var remaining = timespec()
    while nanosleep(&request, &remaining) == -1 && errno == EINTR { request = remaining }
  }

}
