/// The four data tables of a Modbus device.
public struct ModbusRegisterBank: Sendable, Equatable {
  public var coils: [Bool]
  public var discreteInputs: [Bool]
  public var holdingRegisters: [UInt16]
  public var inputRegisters: [UInt16]

  public init(coils: [Bool] = [], discreteInputs: [Bool] = [], holdingRegisters: [UInt16] = [], inputRegisters: [UInt16] = []) {
    self.coils = coils
    self.discreteInputs = discreteInputs
    self.holdingRegisters = holdingRegisters
    self.inputRegisters = inputRegisters
  }
}
