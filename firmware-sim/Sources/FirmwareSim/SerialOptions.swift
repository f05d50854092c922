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
