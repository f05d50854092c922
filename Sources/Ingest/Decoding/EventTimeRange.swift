import Payload

/// The event times a source accepts, in epoch milliseconds. A reading whose time field lies
/// outside goes to the dead-letter topic (`bad_timestamp`) instead of the log: a device with a
/// reset clock (1970) or a corrupt field (`1e19`) never reaches retention, windows or forwarding.
public struct EventTimeRange: Sendable, Equatable, CustomStringConvertible {
  public var earliestMs: Int64
  public var latestMs: Int64

  public init(earliestMs: Int64, latestMs: Int64) {
    self.earliestMs = earliestMs
    self.latestMs = latestMs
  }

  /// 2000-01-01T00:00:00Z to 2100-01-01T00:00:00Z. Default of every source.
  public static let standard = EventTimeRange(earliestMs: 946_684_800_000, latestMs: 4_102_444_800_000)

  @inline(__always)
  public func contains(_ ms: Int64) -> Bool { ms >= earliestMs && ms <= latestMs }

  public var description: String { "\(Self.format(earliestMs)) to \(Self.format(latestMs))" }

  /// `2000-01-01T00:00:00Z` (RFC 3339) or epoch milliseconds.
  public static func instant(_ text: String) -> Int64? {
    if let ms = Int64(text) { return ms }
    return RFC3339.parse(text)
  }

  /// RFC 3339 in UTC, to the second (for messages).
  static func format(_ ms: Int64) -> String { RFC3339.format(ms, milliseconds: false) }

}
