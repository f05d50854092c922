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
    var bytes = Array(text.utf8)
    return bytes.withUnsafeMutableBytes { Timestamps.rfc3339(UnsafeRawBufferPointer($0)) }
  }

  /// RFC 3339 in UTC, to the second (for messages).
  static func format(_ ms: Int64) -> String {
    let (days, rest) = ms.dividedReportingOverflow(by: 86_400_000)
    guard !rest else { return "\(ms) ms" }
    var d = days
    var r = ms - days * 86_400_000
    if r < 0 {
      d -= 1
      r += 86_400_000
    }
    guard let civil = Timestamps.civil(fromDays: d) else { return "\(ms) ms" }
    let s = r / 1000
    func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
    return "\(civil.year)-\(two(Int64(civil.month)))-\(two(Int64(civil.day)))T\(two(s / 3600)):\(two(s / 60 % 60)):\(two(s % 60))Z"
  }
}
