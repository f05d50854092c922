import Payload
import Testing

@testable import Ingest

@Suite struct ModbusCodecTests {
  /// CRC-16/MODBUS vectors: the catalogue's check value and the specification's request frames.
  static let crcVectors: [([UInt8], [UInt8])] = [
    ([0x01, 0x03, 0x00, 0x00, 0x00, 0x01], [0x84, 0x0A]),
    ([0x01, 0x03, 0x00, 0x00, 0x00, 0x02], [0xC4, 0x0B]),
    ([0x11, 0x03, 0x00, 0x6B, 0x00, 0x03], [0x76, 0x87]),  // Modbus over serial line guide, read holding registers
    (Array("123456789".utf8), [0x37, 0x4B]),  // CRC catalogue check 0x4B37, low byte first
  ]

  @Test(arguments: 0..<crcVectors.count)
  func crcMatchesKnownVectors(_ i: Int) {
    let (frame, crc) = Self.crcVectors[i]
    let value = ModbusCRC.checksum(frame)
    #expect([UInt8(value & 0xFF), UInt8(value >> 8)] == crc)
    #expect(SerialModbusTestSlave.crc(frame) == value)  // the test slave's bitwise CRC agrees
    (frame + crc).withUnsafeBytes { #expect(ModbusCRC.isValid($0)) }
    (frame + [crc[0] ^ 1, crc[1]]).withUnsafeBytes { #expect(!ModbusCRC.isValid($0)) }
  }

  @Test func requestFrames() {
    #expect(
      ModbusRequest(unit: 1, table: .holdingRegister, address: 0, count: 1).frame == [1, 3, 0, 0, 0, 1, 0x84, 0x0A])
    #expect(
      ModbusRequest(unit: 1, table: .holdingRegister, address: 0, count: 2).frame == [1, 3, 0, 0, 0, 2, 0xC4, 0x0B])
    let coils = ModbusRequest(unit: 0x11, table: .coil, address: 0x13, count: 0x25)
    #expect(Array(coils.frame.prefix(6)) == [0x11, 1, 0, 0x13, 0, 0x25])
    #expect(coils.responseDataCount == 5)
    #expect(ModbusRequest(unit: 2, table: .inputRegister, address: 8, count: 1).frame[1] == 4)
    #expect(ModbusRequest(unit: 2, table: .discreteInput, address: 8, count: 9).responseDataCount == 2)
  }

  static func parse(_ request: ModbusRequest, _ bytes: [UInt8]) -> Result<ModbusRequest.Parse, ModbusError> {
    bytes.withUnsafeBytes { b in Result { () throws(ModbusError) in try request.parse(b) } }
  }

  @Test func responseParsing() {
    let request = ModbusRequest(unit: 0x11, table: .holdingRegister, address: 0x6B, count: 3)
    // The specification's example response: registers 0x022B, 0x0000, 0x0064.
    let response = SerialModbusTestSlave.withCRC([0x11, 0x03, 0x06, 0x02, 0x2B, 0x00, 0x00, 0x00, 0x64])
    #expect(Self.parse(request, []) == .success(.needMore(2)))
    #expect(Self.parse(request, Array(response.prefix(2))) == .success(.needMore(3)))
    #expect(Self.parse(request, Array(response.prefix(5))) == .success(.needMore(11)))
    #expect(Self.parse(request, response) == .success(.data(3..<9, length: 11)))

    var corrupt = response
    corrupt[4] ^= 0x10
    #expect((try? Self.parse(request, corrupt).get()) == nil)
    #expect(Self.kind(Self.parse(request, corrupt)) == .crc)
    #expect(Self.kind(Self.parse(request, SerialModbusTestSlave.withCRC([0x12, 0x03, 0x02, 0, 0]))) == .malformed)
    #expect(Self.kind(Self.parse(request, SerialModbusTestSlave.withCRC([0x11, 0x04, 0x02, 0, 0]))) == .malformed)
    // A well-formed response with the wrong number of registers.
    #expect(Self.kind(Self.parse(request, SerialModbusTestSlave.withCRC([0x11, 0x03, 0x02, 0, 0]))) == .malformed)

    let exception = SerialModbusTestSlave.withCRC([0x11, 0x83, 0x02])
    #expect(Self.parse(request, Array(exception.prefix(3))) == .success(.needMore(5)))
    guard case .failure(let error) = Self.parse(request, exception) else {
      Issue.record("an exception response must fail")
      return
    }
    #expect(error.kind == .exception && error.exceptionCode == 2)
    #expect(
      error.message == "unit 17 answered exception 2 (illegal data address) to function 3 at address 107, count 3")
    #expect(!error.isTransient)
    #expect(ModbusError(.exception, "", exceptionCode: 6).isTransient)
  }

  static func kind(_ result: Result<ModbusRequest.Parse, ModbusError>) -> ModbusError.Kind? {
    if case .failure(let e) = result { return e.kind }
    return nil
  }

  @Test func exceptionNames() {
    #expect(
      (1...11).map { ModbusError.exceptionName(UInt8($0)) } == [
        "illegal function", "illegal data address", "illegal data value", "server device failure", "acknowledge",
        "server device busy", "unknown exception", "memory parity error", "unknown exception",
        "gateway path unavailable", "gateway target device failed to respond",
      ])
  }

  @Test func readPlanMergesAdjacentAndWithinGap() {
    let entries: [RegisterMapEntry] = [
      .init(name: "c", address: 10, type: .float32),
      .init(name: "a", address: 0, type: .uint16),
      .init(name: "b", address: 1, type: .int32),
      .init(name: "far", address: 200, type: .uint16),
      .init(name: "in", table: .inputRegister, address: 0),
      .init(name: "coil", table: .coil, address: 3),
      .init(name: "coil2", table: .coil, address: 4),
    ]
    let adjacent = ModbusReadPlan(unit: 1, entries: entries, maxRegisters: 125, maxGap: 0)
    #expect(
      adjacent.reads.map { [Int($0.request.function), Int($0.request.address), Int($0.request.count)] } == [
        [3, 0, 3], [3, 10, 2], [3, 200, 1], [4, 0, 1], [1, 3, 2],
      ])
    #expect(adjacent.fields.map(\.entry.name) == ["c", "a", "b", "far", "in", "coil", "coil2"])
    #expect(adjacent.fields.map(\.storage) == [3, 0, 1, 5, 6, 7, 8])
    #expect(adjacent.storageCount == 9)

    let gap = ModbusReadPlan(unit: 1, entries: entries, maxRegisters: 125, maxGap: 7)
    #expect(
      gap.reads.map { [Int($0.request.address), Int($0.request.count)] } == [[0, 12], [200, 1], [0, 1], [3, 2]])
    let small = ModbusReadPlan(unit: 1, entries: entries, maxRegisters: 4, maxGap: 100)
    #expect(small.reads.filter { $0.request.function == 3 }.map { Int($0.request.count) } == [3, 2, 1])
  }

  @Test func impliedDecimals() {
    #expect(ModbusReadPlan.fractionDigits(0.1) == 1)
    #expect(ModbusReadPlan.fractionDigits(0.25) == 2)
    #expect(ModbusReadPlan.fractionDigits(1) == 0)
    #expect(ModbusReadPlan.fractionDigits(100) == 0)
    #expect(ModbusReadPlan.fractionDigits(0.00001) == 5)
    #expect(ModbusReadPlan.fractionDigits(2.5e-5) == 6)
    #expect(ModbusReadPlan.impliedDecimals(.init(name: "x", address: 0, scale: 0.01, offset: -273.15)) == 2)
    #expect(ModbusReadPlan.impliedDecimals(.init(name: "x", address: 0)) == nil)
  }

  /// One case of value decoding: registers as they arrive, the entry, the JSON expected.
  struct ValueCase: CustomTestStringConvertible {
    var registers: [UInt16]
    var entry: RegisterMapEntry
    var json: String
    var testDescription: String { "\(entry.type.rawValue) \(entry.wordOrder)/\(entry.byteOrder) -> \(json)" }
  }

  static let valueCases: [ValueCase] = [
    ValueCase(registers: [0xFB2E], entry: .init(name: "v", address: 0, type: .int16), json: "-1234"),
    ValueCase(registers: [0xFB2E], entry: .init(name: "v", address: 0, type: .uint16), json: "64302"),
    ValueCase(
      registers: [0x2EFB], entry: .init(name: "v", address: 0, type: .int16, byteOrder: .little), json: "-1234"),
    ValueCase(registers: [0xFFFF, 0xFFFE], entry: .init(name: "v", address: 0, type: .int32), json: "-2"),
    ValueCase(
      registers: [0xFFFE, 0xFFFF], entry: .init(name: "v", address: 0, type: .int32, wordOrder: .little), json: "-2"),
    ValueCase(registers: [0x0001, 0x0000], entry: .init(name: "v", address: 0, type: .uint32), json: "65536"),
    ValueCase(
      registers: [0x0000, 0x0001], entry: .init(name: "v", address: 0, type: .uint32, wordOrder: .little), json: "65536"
    ),
    ValueCase(
      registers: [0x0000, 0x0100], entry: .init(name: "v", address: 0, type: .uint32, byteOrder: .little), json: "1"),
    ValueCase(
      registers: [0x0100, 0x0000],
      entry: .init(name: "v", address: 0, type: .uint32, wordOrder: .little, byteOrder: .little),
      json: "1"),
    ValueCase(registers: [0xFFFF, 0xFFFF], entry: .init(name: "v", address: 0, type: .uint32), json: "4294967295"),
    ValueCase(registers: [0x4049, 0x0FDB], entry: .init(name: "v", address: 0, type: .float32), json: "3.1415927"),
    ValueCase(
      registers: [0x0FDB, 0x4049], entry: .init(name: "v", address: 0, type: .float32, wordOrder: .little),
      json: "3.1415927"),
    ValueCase(
      registers: [0xDB0F, 0x4940],
      entry: .init(name: "v", address: 0, type: .float32, wordOrder: .little, byteOrder: .little),
      json: "3.1415927"),
    ValueCase(
      registers: [0x4940, 0xDB0F], entry: .init(name: "v", address: 0, type: .float32, byteOrder: .little),
      json: "3.1415927"),
    ValueCase(registers: [0x7FC0, 0x0000], entry: .init(name: "v", address: 0, type: .float32), json: "null"),
    ValueCase(registers: [0x4120, 0x0000], entry: .init(name: "v", address: 0, type: .float32, scale: 0.5), json: "5"),
    ValueCase(
      registers: [0x4049, 0x0FDB], entry: .init(name: "v", address: 0, type: .float32, decimals: 2), json: "3.14"),
    ValueCase(registers: [0x0020], entry: .init(name: "v", address: 0, scale: 0.1), json: "3.2"),
    ValueCase(registers: [0xFE70], entry: .init(name: "v", address: 0, type: .int16, scale: 0.1), json: "-40"),
    ValueCase(registers: [2731], entry: .init(name: "v", address: 0, scale: 0.1, offset: -273.15), json: "-0.05"),
    ValueCase(registers: [1234], entry: .init(name: "v", address: 0, scale: 10, offset: 5), json: "12345"),
    ValueCase(registers: [1], entry: .init(name: "v", table: .coil, address: 0), json: "true"),
    ValueCase(registers: [0], entry: .init(name: "v", table: .discreteInput, address: 0), json: "false"),
  ]

  @Test(arguments: valueCases)
  func valueDecoding(_ c: ValueCase) {
    let plan = ModbusReadPlan(unit: 1, entries: [c.entry], maxRegisters: 125, maxGap: 0)
    let writer = JSONWriter()
    c.registers.withUnsafeBufferPointer { ModbusValueDecoder.write(plan.fields[0], $0, into: writer) }
    #expect(String(decoding: writer.bytes, as: UTF8.self) == c.json)
  }

  @Test func storingResponseData() {
    var values = [UInt16](repeating: 9, count: 12)
    values.withUnsafeMutableBufferPointer { v in
      [UInt8]([0x12, 0x34, 0xAB, 0xCD]).withUnsafeBytes {
        ModbusValueDecoder.store(
          $0, for: ModbusRequest(unit: 1, table: .holdingRegister, address: 0, count: 2), into: v, at: 1)
      }
      [UInt8]([0b1100_1101, 0b0000_0001]).withUnsafeBytes {
        ModbusValueDecoder.store($0, for: ModbusRequest(unit: 1, table: .coil, address: 0, count: 9), into: v, at: 3)
      }
    }
    #expect(values == [9, 0x1234, 0xABCD, 1, 0, 1, 1, 0, 0, 1, 1, 1])
  }

  @Test func interFrameTiming() {
    var port = SerialPortConfig(path: "/dev/ttyUSB0", baudRate: 9600, parity: .even)
    #expect(port.bitsPerCharacter == 11)
    #expect(ModbusConfig(port: port, slaves: []).effectiveInterFrameDelayUs == 4011)  // 3.5 × 11 bits at 9600 baud
    port.baudRate = 19200
    port.parity = .none
    #expect(ModbusConfig(port: port, slaves: []).effectiveInterFrameDelayUs == 1823)
    port.baudRate = 115_200
    #expect(ModbusConfig(port: port, slaves: []).effectiveInterFrameDelayUs == 1750)
    #expect(ModbusConfig(port: port, interFrameDelayUs: 500, slaves: []).effectiveInterFrameDelayUs == 500)
  }
}
