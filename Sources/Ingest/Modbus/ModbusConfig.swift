public import WeirCore

/// A Modbus RTU master on one serial line: the port, the timing of the bus, and the slaves it
/// polls. Read from the configuration by Gateway (snake_case keys, docs/serial.md).
public struct ModbusConfig: Sendable, Equatable, ConfigValidating {
  /// The serial line. Modbus RTU devices usually run 19200 or 9600 baud with even parity (8E1,
  /// the standard's default) or no parity and two stop bits (8N2): set it to match. Required.
  public var port: SerialPortConfig
  /// The topic of the polls' records. Default: `telemetry`.
  public var topic: String
  /// How long to wait for a response after the request has gone out, in milliseconds (YAML
  /// `response_timeout`, a duration). Default: 500.
  public var responseTimeoutMs: Int
  /// Further attempts after a timeout, a CRC error, a malformed response or a busy exception. A slave
  /// that is already down gets a single attempt per poll, so it cannot hold up the others. Default: 2.
  public var retries: Int
  /// Silence kept between frames, in microseconds. Default: 3.5 character times at the port's baud
  /// rate, and 1750 µs above 19200 baud, as the Modbus serial line specification says.
  public var interFrameDelayUs: Int?
  /// Required (at least one).
  public var slaves: [ModbusSlaveConfig]

  public init(
    port: SerialPortConfig, topic: String = "telemetry", responseTimeoutMs: Int = 500, retries: Int = 2,
    interFrameDelayUs: Int? = nil, slaves: [ModbusSlaveConfig]
  ) {
    self.port = port
    self.topic = topic
    self.responseTimeoutMs = responseTimeoutMs
    self.retries = retries
    self.interFrameDelayUs = interFrameDelayUs
    self.slaves = slaves
  }

  /// Microseconds one character takes on the wire.
  public var characterTimeUs: Double { Double(port.bitsPerCharacter) * 1_000_000 / Double(max(port.baudRate, 1)) }

  /// The silence kept between frames: ``interFrameDelayUs``, or 3.5 character times (1750 µs fixed
  /// above 19200 baud).
  public var effectiveInterFrameDelayUs: Int {
    if let interFrameDelayUs { return interFrameDelayUs }
    if port.baudRate > 19200 { return 1750 }
    return Int((characterTimeUs * 3.5).rounded(.up))
  }

  /// Problems with the whole configuration, the port's and the slaves' included, one sentence
  /// each; empty when it can be used. Keys are paths as in YAML (`port.data_bits`,
  /// `slaves[0].registers[2].address`).
  public func problems() -> [ConfigIssue] {
    var issues = port.problems().prefixed("port")
    if port.flowControl == .xonXoff {
      issues.append(
        ConfigIssue(
          key: "port.flow_control",
          "xon_xoff would eat 0x11 and 0x13 bytes of binary Modbus frames; use none or rts_cts"))
    }
    if port.dataBits != 8 {
      issues.append(ConfigIssue(key: "port.data_bits", "Modbus RTU needs 8 data bits, not \(port.dataBits)"))
    }
    if topic.isEmpty { issues.append(ConfigIssue(key: "topic", "must not be empty")) }
    if responseTimeoutMs < 1 || responseTimeoutMs > 60_000 {
      issues.append(
        ConfigIssue(
          key: "response_timeout",
          "\(ConfigValues.describeMilliseconds(Int64(responseTimeoutMs))) must be between 1ms and 60s"))
    }
    if retries < 0 || retries > 10 { issues.append(ConfigIssue(key: "retries", "\(retries) must be between 0 and 10")) }
    if let interFrameDelayUs, interFrameDelayUs < 0 || interFrameDelayUs > 1_000_000 {
      issues.append(ConfigIssue(key: "inter_frame_delay_us", "\(interFrameDelayUs) must be between 0 and 1000000"))
    }
    if slaves.isEmpty { issues.append(ConfigIssue(key: "slaves", "at least one slave is required")) }
    var units: Set<Int> = []
    for (i, slave) in slaves.enumerated() {
      issues += slave.problems().prefixed("slaves[\(i)]")
      if !units.insert(slave.unitId).inserted {
        issues.append(ConfigIssue(key: "slaves[\(i)].unit_id", "\(slave.unitId) appears twice"))
      }
    }
    return issues
  }
}
