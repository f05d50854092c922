import Payload
import Testing

@testable import Ingest

/// What a slave or the line can send that is not the response asked for, and values that are not
/// finite numbers: each is a counted error for the poll, or valid JSON.
@Suite struct ModbusHardeningTests {
  static let request = ModbusRequest(unit: 7, table: .holdingRegister, address: 10, count: 2)
  static func crc(_ bytes: [UInt8]) -> [UInt8] { SerialModbusTestSlave.withCRC(bytes) }

  /// Responses to `request` (unit 7, function 3, 2 registers) and what the master makes of them.
  static let responses: [(String, [UInt8], ModbusError.Kind?)] = [
    ("the expected response", crc([7, 3, 4, 0, 1, 0, 2]), nil),
    ("garbage before the frame", [0xFF] + crc([7, 3, 4, 0, 1, 0, 2]), .malformed),
    ("another unit", crc([8, 3, 4, 0, 1, 0, 2]), .malformed),
    ("another function", crc([7, 4, 4, 0, 1, 0, 2]), .malformed),
    ("an exception to another function", crc([7, 0x84, 2]), .malformed),
    ("a byte count for fewer registers", crc([7, 3, 2, 0, 1]), .malformed),
    ("a byte count for more registers", crc([7, 3, 6, 0, 1, 0, 2, 0, 3]), .malformed),
    ("a zero byte count", crc([7, 3, 0]), .malformed),
    ("a bad CRC", [7, 3, 4, 0, 1, 0, 2, 0, 0], .crc),
    ("an exception with a bad CRC", [7, 0x83, 2, 0, 0], .crc),
    ("an unknown exception code", crc([7, 0x83, 0xFF]), .exception),
    ("a lone unit byte", [7], .timeout),
    ("a byte count of 255 and no data", [7, 3, 255], .timeout),
    ("a byte count of 255 and its data", crc([7, 3, 255] + [UInt8](repeating: 0, count: 255)), .malformed),
    ("nothing", [], .timeout),
  ]

  /// Collects a response as the master does: parses what has arrived, waits for what the parse
  /// asks for, and times out when the slave sends no more.
  static func collect(_ bytes: [UInt8]) -> Result<[UInt8], ModbusError> {
    bytes.withUnsafeBytes { all in
      var received = 0
      while true {
        do throws(ModbusError) {
          switch try request.parse(UnsafeRawBufferPointer(rebasing: all[0..<received])) {
          case .data(let range, _): return .success(Array(all[range]))
          case .needMore(let n):
            guard n <= all.count else { return .failure(ModbusError(.timeout, "incomplete")) }
            received = n
          }
        } catch {
          return .failure(error)
        }
      }
    }
  }

  @Test(arguments: 0..<responses.count)
  func responsesThatAreNotTheAnswerAreCountedErrors(_ i: Int) {
    let (what, bytes, kind) = Self.responses[i]
    switch Self.collect(bytes) {
    case .success(let data):
      #expect(kind == nil, "\(what): taken as data \(data)")
      #expect(data == [0, 1, 0, 2])
    case .failure(let error):
      #expect(error.kind == kind, "\(what): \(error)")
      #expect(!error.message.isEmpty)
    }
  }

  /// Registers, an entry, the JSON: infinities, NaN and overflowing scales become null (or the
  /// double a float cannot hold), never `inf` or `nan` text.
  static let values: [([UInt16], RegisterMapEntry, String)] = [
    ([0x7F80, 0x0000], RegisterMapEntry(name: "v", address: 0, type: .float32), "null"),
    ([0xFF80, 0x0000], RegisterMapEntry(name: "v", address: 0, type: .float32, scale: 2), "null"),
    ([0x7FC0, 0x0001], RegisterMapEntry(name: "v", address: 0, type: .float32, decimals: 2), "null"),
    ([0x0000, 0x7F80], RegisterMapEntry(name: "v", address: 0, type: .float32, wordOrder: .little), "null"),
    ([0x7F7F, 0xFFFF], RegisterMapEntry(name: "v", address: 0, type: .float32, scale: 10), "3.4028234663852886e+39"),
    ([0x7FFF], RegisterMapEntry(name: "v", address: 0, type: .int16, scale: 1e308, offset: 1e308), "null"),
    ([0xFFFF, 0xFFFF], RegisterMapEntry(name: "v", address: 0, type: .uint32, scale: 1e290), "4.294967295e+299"),
    ([0xFFFF, 0xFFFF], RegisterMapEntry(name: "v", address: 0, type: .uint32, scale: 1e305), "null"),
    ([0x8000, 0x0000], RegisterMapEntry(name: "v", address: 0, type: .int32, scale: 1e-300), "0"),
    ([0xFFFF], RegisterMapEntry(name: "v", address: 0, type: .uint16, scale: 1e10, decimals: 15), "655350000000000"),
  ]

  @Test(arguments: 0..<values.count)
  func valuesThatAreNotFiniteNumbers(_ i: Int) {
    let (registers, entry, json) = Self.values[i]
    let plan = ModbusReadPlan(unit: 1, entries: [entry], maxRegisters: 125, maxGap: 0)
    let writer = JSONWriter()
    registers.withUnsafeBufferPointer { ModbusValueDecoder.writeRecord(plan, $0, into: writer) }
    let record = String(decoding: writer.bytes, as: UTF8.self)
    #expect(record == #"{"v":"# + json + "}")
    #expect(JSONFields.validate(writer.bytes) == nil, "\(record)")
  }
}
