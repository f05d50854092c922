public import WeirCore

/// How to open one serial port: the line settings (termios) and how to reopen it when the device
/// goes away. Read from the configuration by Gateway (snake_case keys, docs/serial.md); every
/// field but `path` has a default.
public struct SerialPortConfig: Sendable, Equatable, ConfigValidating {
  /// Parity bit.
  public enum Parity: String, Sendable, CaseIterable {
    case none, even, odd, mark, space
  }

  /// Flow control.
  public enum FlowControl: String, Sendable, CaseIterable {
    case none
    /// Hardware handshake on the RTS and CTS lines (`CRTSCTS`).
    case rtsCts = "rts_cts"
    /// Software handshake with XON (0x11) and XOFF (0x13) bytes (`IXON`, `IXOFF`). Never for
    /// binary protocols such as Modbus RTU.
    case xonXoff = "xon_xoff"
  }

  /// The device, e.g. `/dev/ttyUSB0`; prefer a stable link under `/dev/serial/by-id/`, which
  /// also survives the adapter coming back under another number. Required.
  public var path: String
  /// The id of the device on the port: the record key when no key field is configured.
  /// Default: none (records have a null key unless a key field is configured).
  public var deviceId: String?
  /// Bits per second, one of ``supportedBaudRates``. Default: 9600.
  public var baudRate: Int
  /// 5, 6, 7 or 8. Default: 8.
  public var dataBits: Int
  /// Default: `none`.
  public var parity: Parity
  /// 1 or 2. Default: 1.
  public var stopBits: Int
  /// Default: `none`.
  public var flowControl: FlowControl
  /// Take exclusive use of the port (`TIOCEXCL`), so a second program cannot open it by mistake.
  /// Default: true.
  public var exclusive: Bool
  /// First delay before reopening a port that failed or went away, in milliseconds (YAML
  /// `reopen_initial_delay`, a duration). Default: 500.
  public var reopenInitialDelayMs: Int
  /// Longest delay between reopen attempts; the delay doubles up to it (YAML `reopen_max_delay`).
  /// Default: 30000.
  public var reopenMaxDelayMs: Int
  /// Fraction of each delay taken off at random (0...1), so a fleet of gateways does not retry
  /// in step. Default: 0.2.
  public var reopenJitter: Double

  /// The baud rates Linux termios can set.
  public static let supportedBaudRates: [Int] = [
    50, 75, 110, 134, 150, 200, 300, 600, 1200, 1800, 2400, 4800, 9600, 19200, 38400, 57600, 115_200,
    230_400, 460_800, 500_000, 576_000, 921_600, 1_000_000, 1_152_000, 1_500_000, 2_000_000, 2_500_000,
    3_000_000, 3_500_000, 4_000_000,
  ]

  public init(
    path: String, deviceId: String? = nil, baudRate: Int = 9600, dataBits: Int = 8, parity: Parity = .none,
    stopBits: Int = 1, flowControl: FlowControl = .none, exclusive: Bool = true, reopenInitialDelayMs: Int = 500,
    reopenMaxDelayMs: Int = 30_000, reopenJitter: Double = 0.2
  ) {
    self.path = path
    self.deviceId = deviceId
    self.baudRate = baudRate
    self.dataBits = dataBits
    self.parity = parity
    self.stopBits = stopBits
    self.flowControl = flowControl
    self.exclusive = exclusive
    self.reopenInitialDelayMs = reopenInitialDelayMs
    self.reopenMaxDelayMs = reopenMaxDelayMs
    self.reopenJitter = reopenJitter
  }

  /// The longest reopen delay: an hour (a longer one would overflow the back-off's doubling).
  public static let maxReopenDelayMs = 3_600_000

  /// Bits on the wire per character: start bit, data bits, parity bit, stop bits.
  public var bitsPerCharacter: Int { 1 + dataBits + (parity == .none ? 0 : 1) + stopBits }

  /// What is wrong with this configuration, one sentence per problem; empty when it can be used.
  /// Keys are named as they are written in YAML.
  public func problems() -> [ConfigIssue] {
    var issues: [ConfigIssue] = []
    if path.isEmpty { issues.append(ConfigIssue(key: "path", "the device path is required (e.g. /dev/ttyUSB0)")) }
    if let deviceId, deviceId.isEmpty { issues.append(ConfigIssue(key: "device_id", "must not be empty when given")) }
    if !Self.supportedBaudRates.contains(baudRate) {
      issues.append(
        ConfigIssue(
          key: "baud_rate",
          "\(baudRate) is not a rate termios can set; use one of 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600 (or another standard rate)"
        ))
    }
    if !(5...8).contains(dataBits) { issues.append(ConfigIssue(key: "data_bits", "\(dataBits) must be 5, 6, 7 or 8")) }
    if stopBits != 1 && stopBits != 2 { issues.append(ConfigIssue(key: "stop_bits", "\(stopBits) must be 1 or 2")) }
    if reopenInitialDelayMs < 1 || reopenInitialDelayMs > Self.maxReopenDelayMs {
      issues.append(
        ConfigIssue(
          key: "reopen_initial_delay",
          "\(ConfigValues.describeMilliseconds(Int64(reopenInitialDelayMs))) must be between 1ms and 1h"))
    }
    if reopenMaxDelayMs > Self.maxReopenDelayMs {
      issues.append(
        ConfigIssue(
          key: "reopen_max_delay", "\(ConfigValues.describeMilliseconds(Int64(reopenMaxDelayMs))) must be at most 1h"))
    } else if reopenMaxDelayMs < reopenInitialDelayMs {
      issues.append(
        ConfigIssue(
          key: "reopen_max_delay",
          "\(ConfigValues.describeMilliseconds(Int64(reopenMaxDelayMs))) must be at least reopen_initial_delay (\(ConfigValues.describeMilliseconds(Int64(reopenInitialDelayMs))))"
        ))
    }
    if !(0...1).contains(reopenJitter) {
      issues.append(ConfigIssue(key: "reopen_jitter", "\(reopenJitter) must be between 0 and 1"))
    }
    return issues
  }
}
