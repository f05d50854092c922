/// A point-in-time view of a Modbus source: its port and each slave.
public struct ModbusSourceStatus: Sendable, Equatable {
  public var port: SerialPortStatus
  public var slaves: [ModbusSlaveStatus]

  public init(port: SerialPortStatus, slaves: [ModbusSlaveStatus]) {
    self.port = port
    self.slaves = slaves
  }

  /// The slave with `unitId`.
  public func slave(_ unitId: Int) -> ModbusSlaveStatus? { slaves.first { $0.unitId == unitId } }
}

/// How one Modbus slave is answering.
public struct ModbusSlaveStatus: Sendable, Equatable {
  public var unitId: Int
  public var deviceId: String
  /// The last poll got every response.
  public var up = false
  /// Polls made (each one request per read of the plan, with retries).
  public var polls: Int64 = 0
  /// Polls that produced no record.
  public var failedPolls: Int64 = 0
  /// Polls skipped because the bus was too busy to make them on time.
  public var missedPolls: Int64 = 0
  /// Wall-clock time of the last poll and the last successful one (epoch milliseconds).
  public var lastPollMs: Int64?
  public var lastSuccessMs: Int64?
  /// Why the last failed poll failed (`no response from unit 2 within 500 ms`, an exception...).
  public var lastError: String?
  /// Failed attempts by kind (`timeout`, `crc`, `exception`, `malformed`, `io`).
  public var errors: [String: Int64] = [:]

  public init(unitId: Int, deviceId: String) {
    self.unitId = unitId
    self.deviceId = deviceId
  }
}
