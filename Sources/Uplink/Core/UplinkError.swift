/// Why an uplink cannot start or go on, with what a person can do about it.
public struct UplinkError: Error, CustomStringConvertible, Sendable, Equatable {
  /// The kinds of failure callers branch on.
  public enum Code: String, Sendable {
    /// The configuration is wrong; the message names the field.
    case configuration
    /// The transport library refused something (librdkafka or libmosquitto text in the message).
    case transport
    /// Reading the log or committing a cursor failed.
    case log
    /// The uplink was used in a way it does not allow (started twice...).
    case state
  }

  public var code: Code
  public var message: String

  public init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }

  public var description: String { message }
}
