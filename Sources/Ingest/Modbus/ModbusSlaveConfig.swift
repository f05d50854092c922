public import WeirCore

/// One Modbus RTU slave on a bus: its unit id, the device id its records are keyed by, how often
/// it is polled and what is read. Read from the configuration by Gateway (snake_case keys,
/// docs/serial.md).
public struct ModbusSlaveConfig: Sendable, Equatable, ConfigValidating {
  /// The slave address, 1...247. Required.
  public var unitId: Int
  /// The record key of every poll of this slave. Required.
  public var deviceId: String
  /// Time between polls, in milliseconds, at most a day (YAML `interval`, a duration). Default: 1000.
  public var intervalMs: Int
  /// Topic for this slave's records. Default: the source's `topic`.
  public var topic: String?
  /// The values to read; each poll becomes one record with one field per entry. Required.
  public var registers: [RegisterMapEntry]
  /// Unused registers (or bits) one read may span to cover two entries. Reading across a gap can
  /// fail on slaves that reject unmapped addresses, hence the default. Default: 0 (adjacent only).
  public var maxGap: Int
  /// Most registers one read asks for (the protocol allows 125; coils and inputs 2000 bits, scaled
  /// alike). Default: 125.
  public var maxRegistersPerRead: Int

  public init(
    unitId: Int, deviceId: String, intervalMs: Int = 1000, topic: String? = nil, registers: [RegisterMapEntry],
    maxGap: Int = 0, maxRegistersPerRead: Int = 125
  ) {
    self.unitId = unitId
    self.deviceId = deviceId
    self.intervalMs = intervalMs
    self.topic = topic
    self.registers = registers
    self.maxGap = maxGap
    self.maxRegistersPerRead = maxRegistersPerRead
  }

  /// Problems with this slave and its registers, keys named as in YAML (`unit_id`,
  /// `registers[2].type`).
  public func problems() -> [ConfigIssue] {
    var issues: [ConfigIssue] = []
    if !(1...247).contains(unitId) { issues.append(ConfigIssue(key: "unit_id", "\(unitId) must be between 1 and 247")) }
    if deviceId.isEmpty { issues.append(ConfigIssue(key: "device_id", "required (it keys the slave's records)")) }
    if intervalMs < 10 || intervalMs > 86_400_000 {
      issues.append(
        ConfigIssue(
          key: "interval", "\(ConfigValues.describeMilliseconds(Int64(intervalMs))) must be between 10ms and 1d"))
    }
    if let topic, topic.isEmpty { issues.append(ConfigIssue(key: "topic", "must not be empty when given")) }
    if registers.isEmpty { issues.append(ConfigIssue(key: "registers", "at least one entry is required")) }
    if maxGap < 0 { issues.append(ConfigIssue(key: "max_gap", "\(maxGap) must not be negative")) }
    if !(1...125).contains(maxRegistersPerRead) {
      issues.append(ConfigIssue(key: "max_registers_per_read", "\(maxRegistersPerRead) must be between 1 and 125"))
    }
    var names: Set<String> = []
    for (i, entry) in registers.enumerated() {
      issues += entry.problems().prefixed("registers[\(i)]")
      if !entry.name.isEmpty && !names.insert(entry.name).inserted {
        issues.append(ConfigIssue(key: "registers[\(i)].name", "'\(entry.name)' appears twice"))
      }
    }
    return issues
  }
}
