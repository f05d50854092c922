#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// What went wrong on a serial port, with enough context for a person to act on it.
public struct SerialError: Error, CustomStringConvertible, Sendable, Equatable {
  /// The kinds of failure callers branch on.
  public enum Code: String, Sendable {
    /// A system call failed (`errno` is set) for a reason other than the device going away.
    case io
    /// The device is not there or went away: the USB adapter was unplugged, the other end of a
    /// pseudo-terminal closed (`EIO`, `ENXIO`, `ENODEV`, `ENOENT`, end of file, hang-up).
    /// The source reopens the port with back-off.
    case deviceGone
    /// The path is not a terminal, or the terminal refused a setting.
    case unsupported
    /// The configuration has problems (listed in the message); nothing was started.
    case invalidConfiguration
    /// ``SerialLineSource/run()`` or ``ModbusSource/run()`` was called on a source already started.
    case alreadyStarted
  }

  public var code: Code
  public var message: String
  public var errno: Int32?

  public init(_ code: Code, _ message: String, errno: Int32? = nil) {
    self.code = code
    self.message = message
    self.errno = errno
  }

  /// Classifies a failed system call: errors that mean "the device is not there" become
  /// ``Code/deviceGone`` so the source reopens instead of giving up.
  static func system(_ what: String, errno: Int32) -> SerialError {
    switch errno {
    case EIO, ENXIO, ENODEV, ENOENT, EBADF, ENOTDIR:
      return SerialError(.deviceGone, what, errno: errno)
    case ENOTTY, EINVAL:
      return SerialError(.unsupported, what, errno: errno)
    default:
      return SerialError(.io, what, errno: errno)
    }
  }

  public var description: String {
    if let errno { return "\(message): \(String(cString: strerror(errno))) (errno \(errno))" }
    return message
  }
}
