import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// An operating-system call that failed, with errno and what was being done.
public struct SystemError: Error, CustomStringConvertible, Equatable {
  public var errno: Int32
  public var operation: String

  public init(errno: Int32, operation: String) {
    self.errno = errno
    self.operation = operation
  }

  public var description: String {
    "\(operation): \(String(cString: strerror(errno))) (errno \(errno))"
  }
}

/// The one place syscalls go through: retries EINTR, turns -1 into a ``SystemError`` naming the
/// operation (as swift-nio's `Posix` enum does).
enum Posix {
  @discardableResult
  static func call<Result: BinaryInteger>(
    _ operation: @autoclosure () -> String, _ body: () -> Result
  ) throws(SystemError) -> Result {
    while true {
      let result = body()
      if result != -1 { return result }
      let code = errno
      if code == EINTR { continue }
      throw SystemError(errno: code, operation: operation())
    }
  }

  /// Like ``call(_:_:)`` but reports EAGAIN/EWOULDBLOCK as nil instead of an error, for
  /// non-blocking descriptors.
  static func callNonBlocking<Result: BinaryInteger>(
    _ operation: @autoclosure () -> String, _ body: () -> Result
  ) throws(SystemError) -> Result? {
    while true {
      let result = body()
      if result != -1 { return result }
      let code = errno
      if code == EINTR { continue }
      if code == EAGAIN || code == EWOULDBLOCK { return nil }
      throw SystemError(errno: code, operation: operation())
    }
  }

  /// Write all of `bytes` to a blocking descriptor.
  static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, _ what: String) throws(SystemError) {
    var offset = 0
    while offset < bytes.count {
      let written = try call(what) { write(fd, bytes.baseAddress! + offset, bytes.count - offset) }
      offset += written
    }
  }
}
