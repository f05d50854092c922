/// A read request (function code 1, 2, 3 or 4) and the rules for the response it expects.
struct ModbusRequest: Sendable, Equatable {
  var unit: UInt8
  var table: RegisterMapEntry.Table
  var address: UInt16
  /// Registers or bits.
  var count: UInt16

  var function: UInt8 { table.functionCode }

  /// The RTU frame: unit, function, address, count (big-endian) and CRC (low byte first).
  var frame: [UInt8] {
    var bytes: [UInt8] = [
      unit, function, UInt8(address >> 8), UInt8(address & 0xFF), UInt8(count >> 8), UInt8(count & 0xFF),
    ]
    let crc = ModbusCRC.checksum(bytes)
    bytes.append(UInt8(crc & 0xFF))
    bytes.append(UInt8(crc >> 8))
    return bytes
  }

  /// Data bytes of a normal response: two per register, or the bits packed eight to a byte.
  var responseDataCount: Int { table.isBits ? (Int(count) + 7) / 8 : Int(count) * 2 }

  /// What ``parse(_:)`` made of the bytes received so far.
  enum Parse: Equatable {
    /// At least this many bytes are needed.
    case needMore(Int)
    /// A valid response; its data bytes are `data` within the buffer, the frame is `length` bytes.
    case data(Range<Int>, length: Int)
  }

  /// Checks the bytes received so far against this request (address, function, byte count, CRC).
  func parse(_ rx: UnsafeRawBufferPointer) throws(ModbusError) -> Parse {
    guard rx.count >= 2 else { return .needMore(2) }
    guard rx[0] == unit else {
      throw ModbusError(.malformed, "response from unit \(rx[0]) to a request for unit \(unit)")
    }
    if rx[1] == function | 0x80 {
      guard rx.count >= 5 else { return .needMore(5) }
      guard ModbusCRC.isValid(UnsafeRawBufferPointer(rebasing: rx[0..<5])) else {
        throw ModbusError(.crc, "CRC error in an exception response from unit \(unit)")
      }
      let code = rx[2]
      throw ModbusError(
        .exception,
        "unit \(unit) answered exception \(code) (\(ModbusError.exceptionName(code))) to function \(function) at address \(address), count \(count)",
        exceptionCode: code)
    }
    guard rx[1] == function else {
      throw ModbusError(
        .malformed, "response with function \(rx[1]) to a request with function \(function) from unit \(unit)")
    }
    guard rx.count >= 3 else { return .needMore(3) }
    let length = 3 + Int(rx[2]) + 2
    guard rx.count >= length else { return .needMore(length) }
    guard ModbusCRC.isValid(UnsafeRawBufferPointer(rebasing: rx[0..<length])) else {
      throw ModbusError(.crc, "CRC error in the response from unit \(unit) (function \(function), \(length) bytes)")
    }
    guard Int(rx[2]) == responseDataCount else {
      throw ModbusError(
        .malformed,
        "unit \(unit) sent \(rx[2]) data bytes for function \(function) count \(count); expected \(responseDataCount)")
    }
    return .data(3..<3 + Int(rx[2]), length: length)
  }
}
