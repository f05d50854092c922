/// What goes over a simulated serial line.
public enum SerialProtocol: String, Sendable, CaseIterable {
  /// NMEA 0183: GGA, RMC, VTG and XDR sentences with `*hh` checksums.
  case nmea
  /// A header line, then one CSV row per reading.
  case csv
  /// One telemetry JSON object per line.
  case jsonl
  /// A Modbus RTU slave answering function codes 1-4.
  case modbusRTU = "modbus-rtu"
}

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

/// One simulated serial device.
public struct SerialOptions: Sendable {
  public var lineProtocol: SerialProtocol
  /// Where the symlink to the pty slave goes (what the gateway opens). nil: no symlink.
  public var link: String?
  /// The device played.
  public var device: DeviceSpec
  public var seed: UInt64
  public var startEpochMillis: Int64
  /// Simulated seconds per real second. Default: 1.
  public var speed: Double = 1
  /// Stop after this many simulated seconds. Default: nil (until stopped).
  public var durationSeconds: Double?
  public var faults = SerialFaultRates()
  /// The Modbus slave address. Default: 1.
  public var modbusAddress: UInt8 = 1
  /// Repeat the CSV header every this many rows (0: only at the start). Default: 0.
  public var csvHeaderEvery: Int = 0

  public init(lineProtocol: SerialProtocol, link: String?, device: DeviceSpec, seed: UInt64, startEpochMillis: Int64) {
    self.lineProtocol = lineProtocol
    self.link = link
    self.device = device
    self.seed = seed
    self.startEpochMillis = startEpochMillis
  }
}

/// What a serial run did.
public struct SerialRunSummary: Sendable, Equatable {
  /// Lines (or Modbus responses) written.
  public var written = 0
  /// Bytes the kernel did not take because nobody was reading.
  public var droppedBytes = 0
  /// Modbus requests answered, ignored (bad CRC, other address) and left unanswered on purpose.
  public var answered = 0
  public var ignored = 0
  public var unanswered = 0
}
