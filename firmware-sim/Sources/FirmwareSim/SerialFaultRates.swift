/// Serial-line faults, each a probability.
public struct SerialFaultRates: Sendable, Equatable {
  /// Per NMEA sentence: a wrong `*hh` checksum. Per Modbus response: a wrong CRC.
  public var badChecksum: Double = 0
  /// Per line: 1-32 random bytes (never CR, LF or `$`) sent before the line.
  public var garbage: Double = 0
  /// Per line: an extra line of ``overlongBytes`` printable bytes before it.
  public var overlong: Double = 0
  /// Length of an over-long line, without CR LF. Default: 4096.
  public var overlongBytes: Int = 4096
  /// Per Modbus request: no response at all (the master times out).
  public var noResponse: Double = 0

  public init() {}

  public func problems() -> [String] {
    var problems: [String] = []
    for (name, rate) in [("bad_checksum", badChecksum), ("garbage", garbage), ("overlong", overlong), ("no_response", noResponse)]
    where !(0...1).contains(rate) {
      problems.append("fault rate \(name) is \(rate); rates are probabilities between 0 and 1")
    }
    if overlongBytes < 1 { problems.append("overlong line length must be positive") }
    return problems
  }
}
