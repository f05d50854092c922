/// What a degradation scenario promises: the device fails at a known time. A run writes one record
/// per degrading device as a JSON line, so a test can measure how early a rule warned.
///
/// ```json
/// {"device":"motor-0007","kind":"motor","scenario":"bearing_wear","signal":"vibration","threshold":11.2,"direction":"above","onset_ts":1767600600000,"failure_ts":1767602700000,"onset_s":600,"failure_s":2700,"clock_skew_ms":0}
/// ```
///
/// `onset_ts` and `failure_ts` are epoch milliseconds of true simulated time; a device with a
/// skewed clock stamps its readings `clock_skew_ms` off that.
public struct GroundTruthRecord: Sendable, Equatable {
  public var device: String
  public var kind: DeviceKind
  public var scenario: FailureMode
  public var threshold: Double
  public var onsetMillis: Int64
  public var failureMillis: Int64
  public var onsetTimestamp: Int64
  public var failureTimestamp: Int64
  public var clockSkewMillis: Int64

  /// The record as one line of JSON (no trailing newline).
  public func jsonLine() -> String {
    var bytes: [UInt8] = []
    JSONBytes.append("{\"device\":", to: &bytes)
    JSONBytes.appendString(device, to: &bytes)
    JSONBytes.append(",\"kind\":", to: &bytes)
    JSONBytes.appendString(kind.rawValue, to: &bytes)
    JSONBytes.append(",\"scenario\":", to: &bytes)
    JSONBytes.appendString(scenario.rawValue, to: &bytes)
    JSONBytes.append(",\"signal\":", to: &bytes)
    JSONBytes.appendString(scenario.signal, to: &bytes)
    JSONBytes.append(",\"threshold\":", to: &bytes)
    JSONBytes.appendFixed(threshold, decimals: 3, to: &bytes)
    JSONBytes.append(",\"direction\":", to: &bytes)
    JSONBytes.appendString(scenario.risesToFailure ? "above" : "below", to: &bytes)
    JSONBytes.append(",\"onset_ts\":", to: &bytes)
    JSONBytes.appendInt(onsetTimestamp, to: &bytes)
    JSONBytes.append(",\"failure_ts\":", to: &bytes)
    JSONBytes.appendInt(failureTimestamp, to: &bytes)
    JSONBytes.append(",\"onset_s\":", to: &bytes)
    JSONBytes.appendFixed(Double(onsetMillis) / 1000, decimals: 3, to: &bytes)
    JSONBytes.append(",\"failure_s\":", to: &bytes)
    JSONBytes.appendFixed(Double(failureMillis) / 1000, decimals: 3, to: &bytes)
    JSONBytes.append(",\"clock_skew_ms\":", to: &bytes)
    JSONBytes.appendInt(clockSkewMillis, to: &bytes)
    bytes.append(UInt8(ascii: "}"))
    return String(decoding: bytes, as: UTF8.self)
  }

  /// All records as JSON lines, each ending in a newline.
  public static func jsonLines(_ records: [GroundTruthRecord]) -> String {
    records.map { $0.jsonLine() + "\n" }.joined()
  }
}
