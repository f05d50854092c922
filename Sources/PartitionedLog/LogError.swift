/// What went wrong in the log, with enough context for a person to act on it.
public struct LogError: Error, CustomStringConvertible, Sendable, Equatable {
  /// The kinds of failure callers branch on.
  public enum Code: String, Sendable {
    /// A system call failed (`errno` is set).
    case io
    /// The disk budget, the free-space reserve or the topic's size limit is reached and the
    /// topic's full policy is `reject_new`: back-pressure the source and try again later.
    case full
    /// A batch failed its CRC, framing or offset checks.
    case corrupt
    /// A previous fsync failed: the partition accepts no more appends until the store is reopened.
    case fenced
    /// The topic or partition does not exist.
    case unknownTopic
    /// The offset is below the log start (deleted by retention) or above the log end.
    case offsetOutOfRange
    /// The request itself is wrong (bad name, empty batch, too large...).
    case invalidArgument
    /// The metadata database failed.
    case metadata
    /// The store is closed.
    case closed
  }

  public var code: Code
  public var message: String
  public var errno: Int32?

  public init(_ code: Code, _ message: String, errno: Int32? = nil) {
    self.code = code
    self.message = message
    self.errno = errno
  }

  public var description: String {
    if let errno { return "\(message): \(String(cString: strerror(errno))) (errno \(errno))" }
    return message
  }
}

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif
