import Testing
@testable import FirmwareSim

/// Frames from the Modbus specification's examples (as reproduced by simplymodbus.ca), CRCs
/// included, so the slave is checked against bytes computed independently of it.
struct ModbusTests {
  static func bytes(_ hex: String) -> [UInt8] {
    let digits = hex.filter { !$0.isWhitespace }
    return stride(from: 0, to: digits.count, by: 2).map {
      let start = digits.index(digits.startIndex, offsetBy: $0)
      return UInt8(digits[start..<digits.index(start, offsetBy: 2)], radix: 16)!
    }
  }

  @Test(arguments: [
    ("01 03 00 00 00 01", "84 0A"), ("01 03 00 00 00 02", "C4 0B"), ("11 03 00 6B 00 03", "76 87"),
    ("11 01 00 13 00 25", "0E 84"), ("11 04 00 08 00 01", "B2 98"), ("0A 81 02", "B0 53"),
  ])
  func crcKnownVectors(frame: String, crc: String) {
    var bytes = Self.bytes(frame)
    CRC16.appendModbus(to: &bytes)
    #expect(bytes == Self.bytes(frame + crc))
    #expect(CRC16.isValidModbusFrame(bytes))
  }

  @Test func crcCheckValue() {
    #expect(CRC16.modbus(Array("123456789".utf8)) == 0x4B37)
  }

  /// Tables matching the examples: slave 0x11 (17).
  static var exampleBank: ModbusRegisterBank {
    var bank = ModbusRegisterBank(
      coils: Array(repeating: false, count: 100), discreteInputs: Array(repeating: false, count: 300),
      holdingRegisters: Array(repeating: 0, count: 200), inputRegisters: Array(repeating: 0, count: 20))
    bank.holdingRegisters[107] = 0xAE41
    bank.holdingRegisters[108] = 0x5652
    bank.holdingRegisters[109] = 0x4340
    bank.inputRegisters[8] = 0x000A
    for (index, byte) in bytes("CD 6B B2 0E 1B").enumerated() {
      for bit in 0..<8 where index * 8 + bit < 37 {
        bank.coils[19 + index * 8 + bit] = byte & (1 << bit) != 0
      }
    }
    for (index, byte) in bytes("AC DB 35").enumerated() {
      for bit in 0..<8 where index * 8 + bit < 22 {
        bank.discreteInputs[196 + index * 8 + bit] = byte & (1 << bit) != 0
      }
    }
    return bank
  }

  @Test(arguments: [
    ("11 03 00 6B 00 03 76 87", "11 03 06 AE 41 56 52 43 40 49 AD"),
    ("11 01 00 13 00 25 0E 84", "11 01 05 CD 6B B2 0E 1B 45 E6"),
    ("11 02 00 C4 00 16 BA A9", "11 02 03 AC DB 35 20 18"),
    ("11 04 00 08 00 01 B2 98", "11 04 02 00 0A F8 F4"),
  ])
  func specificationExamples(request: String, response: String) {
    let slave = ModbusSlave(address: 0x11)
    #expect(slave.handle(Self.bytes(request), bank: Self.exampleBank) == .reply(Self.bytes(response)))
  }

  @Test func classicReadHoldingRegistersRequest() {
    var bank = ModbusRegisterBank(holdingRegisters: [0x1234, 0xABCD, 0])
    bank.holdingRegisters[0] = 0x1234
    let reply = ModbusSlave(address: 1).handle(Self.bytes("01 03 00 00 00 02 C4 0B"), bank: bank)
    #expect(reply == .reply(Self.bytes("01 03 04 12 34 AB CD") + Self.crc(Self.bytes("01 03 04 12 34 AB CD"))))
  }

  /// A bitwise CRC-16/MODBUS, written separately from the table-driven one under test.
  static func crc(_ bytes: [UInt8]) -> [UInt8] {
    var crc: UInt16 = 0xFFFF
    for byte in bytes {
      crc ^= UInt16(byte)
      for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xA001 : crc >> 1 }
    }
    return [UInt8(crc & 0xFF), UInt8(crc >> 8)]
  }

  @Test(arguments: [
    // Unsupported function 7 → exception 01.
    ("01 07 00 00 00 01", "01 87 01"),
    // Function 5 (write coil) is not supported by this read-only slave → exception 01.
    ("01 05 00 00 FF 00", "01 85 01"),
    // Past the end of the table → exception 02 (0A 81 02 B0 53 in the spec's example).
    ("0A 01 04 A1 00 01", "0A 81 02"),
    ("01 03 00 40 00 01", "01 83 02"),
    // Quantity 0 or above 125 registers / 2000 bits → exception 03.
    ("01 03 00 00 00 00", "01 83 03"),
    ("01 04 00 00 00 7E", "01 84 03"),
    ("01 01 00 00 07 D1", "01 81 03"),
  ])
  func exceptionResponses(request: String, response: String) {
    let requestBytes = Self.bytes(request) + Self.crc(Self.bytes(request))
    let expected = Self.bytes(response) + Self.crc(Self.bytes(response))
    let address = requestBytes[0]
    let bank = ModbusRegisterBank(
      coils: Array(repeating: false, count: 16), discreteInputs: Array(repeating: false, count: 16),
      holdingRegisters: Array(repeating: 0, count: 64), inputRegisters: Array(repeating: 0, count: 64))
    #expect(ModbusSlave(address: address).handle(requestBytes, bank: bank) == .reply(expected))
  }

  @Test func spec0A8102Vector() {
    #expect(ModbusSlave(address: 10).exception(1, .illegalDataAddress) == .reply(Self.bytes("0A 81 02 B0 53")))
  }

  @Test func silentOnBadCRCOtherAddressAndBroadcast() {
    let slave = ModbusSlave(address: 1)
    let bank = ModbusRegisterBank(holdingRegisters: [1, 2])
    #expect(slave.handle(Self.bytes("01 03 00 00 00 02 C4 0C"), bank: bank) == .ignored(.badCRC))
    #expect(slave.handle(Self.bytes("02 03 00 00 00 02") + Self.crc(Self.bytes("02 03 00 00 00 02")), bank: bank) == .ignored(.otherAddress(2)))
    #expect(slave.handle(Self.bytes("00 03 00 00 00 02") + Self.crc(Self.bytes("00 03 00 00 00 02")), bank: bank) == .ignored(.broadcast))
    #expect(slave.handle([1, 3], bank: bank) == .ignored(.tooShort))
  }

  @Test func framerSplitsBackToBackRequestsAndFlushesOnSilence() {
    var framer = ModbusRequestFramer()
    let first = Self.bytes("01 03 00 00 00 02 C4 0B")
    let second = Self.bytes("11 04 00 08 00 01 B2 98")
    #expect(framer.append(Array(first.prefix(3))) == [])
    #expect(framer.append(Array(first.dropFirst(3)) + second) == [first, second])
    let unknown = Self.bytes("01 2B 0E 01 00") + Self.crc(Self.bytes("01 2B 0E 01 00"))
    #expect(framer.append(unknown) == [])
    #expect(framer.flushOnSilence() == unknown)
    #expect(framer.flushOnSilence() == nil)
  }

  @Test func registerMapEncodesFloatsInBothWordOrdersAndScaledInts() {
    let bank = ModbusRegisterMap.bank(
      kind: .motor, deviceNumber: 7, values: SIMD4(2.13, -41.2, 11.84, 1474),
      status: ModbusRegisterMap.Status(), slaveAddress: 9, intervalSeconds: 2)
    let registers = bank.inputRegisters
    #expect(registers.count == 64)
    // 2.13 as float32 is 0x400851EC.
    #expect(registers[0] == 0x4008 && registers[1] == 0x51EC)
    #expect(registers[16] == 0x51EC && registers[17] == 0x4008)
    #expect(ModbusRegisterMap.float32(registers[2], registers[3], order: .bigEndian) == Float(-41.2))
    #expect(ModbusRegisterMap.float32(registers[18], registers[19], order: .wordSwapped) == Float(-41.2))
    #expect(registers[32] == 213)
    #expect(Int16(bitPattern: registers[33]) == -412)
    #expect(registers[34] == 1184 && registers[35] == 1474)
    #expect(registers[48] == 1 && registers[49] == 7 && registers[52] == 1)
    #expect(bank.holdingRegisters[56] == 9 && bank.holdingRegisters[57] == 2 && registers[56] == 0)
    #expect(bank.coils[0] && !bank.coils[1])
  }
}
