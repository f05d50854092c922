/// A Modbus RTU slave (server) for the read functions: 1 read coils, 2 read discrete inputs,
/// 3 read holding registers, 4 read input registers. It follows the checks of the Modbus
/// application protocol in order: unsupported function → exception 01, quantity out of range
/// (1-2000 bits, 1-125 registers) or a wrong request length → exception 03, start + quantity past
/// the table → exception 02. Frames with a bad CRC, for another address, or broadcast (address 0,
/// which read functions do not support) get no answer at all, as the serial-line spec requires.
public struct ModbusSlave: Sendable {
  public var address: UInt8

  public init(address: UInt8) {
    precondition((1...247).contains(address), "Modbus slave addresses are 1-247")
    self.address = address
  }

  /// Modbus exception codes used here.
  public enum ExceptionCode: UInt8, Sendable {
    case illegalFunction = 0x01
    case illegalDataAddress = 0x02
    case illegalDataValue = 0x03
  }

  /// What the slave does with a frame.
  public enum Outcome: Sendable, Equatable {
    /// Send these bytes (CRC included).
    case reply([UInt8])
    /// Stay silent.
    case ignored(IgnoreReason)
  }

  public enum IgnoreReason: Sendable, Equatable {
    case tooShort
    case badCRC
    case otherAddress(UInt8)
    case broadcast
  }

  /// Answer one request frame (address, PDU, CRC) from the register bank.
  public func handle(_ frame: [UInt8], bank: ModbusRegisterBank) -> Outcome {
    guard frame.count >= 4 else { return .ignored(.tooShort) }
    guard CRC16.isValidModbusFrame(frame) else { return .ignored(.badCRC) }
    let unit = frame[0]
    if unit == 0 { return .ignored(.broadcast) }
    guard unit == address else { return .ignored(.otherAddress(unit)) }
    let function = frame[1]
    guard (1...4).contains(function) else { return exception(function, .illegalFunction) }
    guard frame.count == 8 else { return exception(function, .illegalDataValue) }
    let start = Int(frame[2]) << 8 | Int(frame[3])
    let quantity = Int(frame[4]) << 8 | Int(frame[5])

    var response: [UInt8] = [address, function]
    switch function {
    case 1, 2:
      guard (1...2000).contains(quantity) else { return exception(function, .illegalDataValue) }
      let table = function == 1 ? bank.coils : bank.discreteInputs
      guard start + quantity <= table.count else { return exception(function, .illegalDataAddress) }
      let byteCount = (quantity + 7) / 8
      response.append(UInt8(byteCount))
      var packed = [UInt8](repeating: 0, count: byteCount)
      for bit in 0..<quantity where table[start + bit] {
        packed[bit / 8] |= 1 << UInt8(bit % 8)
      }
      response.append(contentsOf: packed)
    default:
      guard (1...125).contains(quantity) else { return exception(function, .illegalDataValue) }
      let table = function == 3 ? bank.holdingRegisters : bank.inputRegisters
      guard start + quantity <= table.count else { return exception(function, .illegalDataAddress) }
      response.append(UInt8(quantity * 2))
      for register in table[start..<(start + quantity)] {
        response.append(UInt8(register >> 8))
        response.append(UInt8(register & 0xFF))
      }
    }
    CRC16.appendModbus(to: &response)
    return .reply(response)
  }

  /// An exception response: the function code with its high bit set, then the exception code.
  public func exception(_ function: UInt8, _ code: ExceptionCode) -> Outcome {
    var response: [UInt8] = [address, function | 0x80, code.rawValue]
    CRC16.appendModbus(to: &response)
    return .reply(response)
  }
}
