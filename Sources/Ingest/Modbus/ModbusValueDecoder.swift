import Payload

/// Turns the registers (or bits) of one register-map entry into the JSON value of the record:
/// byte order within each register, word order across the two registers of a 32-bit value,
/// the type, then `raw * scale + offset`. A value that is not a finite number (a float32 NaN or
/// infinity, or a scaled value past the range of a double) is written as null.
enum ModbusValueDecoder {
  /// The record of one poll: `{"name": value, ...}` in the register map's order.
  static func writeRecord(_ plan: ModbusReadPlan, _ values: UnsafeBufferPointer<UInt16>, into out: JSONWriter) {
    out.reset()
    out.beginObject()
    for field in plan.fields {
      field.key.withUnsafeBytes { out.encodedKey($0) }
      write(field, values, into: out)
    }
    out.endObject()
  }

  /// Writes the value of `field` from `values` (one element per register or bit) into `out`.
  static func write(_ field: ModbusReadPlan.Field, _ values: UnsafeBufferPointer<UInt16>, into out: JSONWriter) {
    let entry = field.entry
    let at = field.storage
    switch entry.type {
    case .bool:
      out.bool(values[at] != 0)
    case .int16:
      emit(Int64(Int16(bitPattern: register(values[at], entry))), field, out)
    case .uint16:
      emit(Int64(register(values[at], entry)), field, out)
    case .int32:
      emit(Int64(Int32(bitPattern: combined(values, at, entry))), field, out)
    case .uint32:
      emit(Int64(combined(values, at, entry)), field, out)
    case .float32:
      let f = Float(bitPattern: combined(values, at, entry))
      if entry.scale == 1 && entry.offset == 0 && field.decimals == nil {
        out.float(f)
      } else {
        let v = Double(f) * entry.scale + entry.offset
        if let decimals = field.decimals {
          out.fixed(v, decimals: decimals)
        } else if Float(v).isFinite {
          out.float(Float(v))
        } else {
          // Scaled past a float's range but not a double's.
          out.double(v)
        }
      }
    }
  }

  /// A register as the value's byte order reads it.
  @inline(__always)
  static func register(_ word: UInt16, _ entry: RegisterMapEntry) -> UInt16 {
    entry.byteOrder == .big ? word : word.byteSwapped
  }

  /// Two registers as one 32-bit value.
  @inline(__always)
  static func combined(_ values: UnsafeBufferPointer<UInt16>, _ at: Int, _ entry: RegisterMapEntry) -> UInt32 {
    let first = UInt32(register(values[at], entry))
    let second = UInt32(register(values[at + 1], entry))
    return entry.wordOrder == .big ? first << 16 | second : second << 16 | first
  }

  private static func emit(_ raw: Int64, _ field: ModbusReadPlan.Field, _ out: JSONWriter) {
    let entry = field.entry
    if entry.scale == 1 && entry.offset == 0 && field.decimals == nil { return out.int(raw) }
    out.fixed(Double(raw) * entry.scale + entry.offset, decimals: field.decimals ?? 6)
  }

  /// Copies a response's data bytes into `values`: big-endian registers, or bits LSB first.
  static func store(
    _ data: UnsafeRawBufferPointer, for request: ModbusRequest, into values: UnsafeMutableBufferPointer<UInt16>, at: Int
  ) {
    let count = Int(request.count)
    if request.table.isBits {
      for i in 0..<count { values[at + i] = UInt16((data[i / 8] >> UInt8(i % 8)) & 1) }
    } else {
      for i in 0..<count { values[at + i] = UInt16(data[2 * i]) << 8 | UInt16(data[2 * i + 1]) }
    }
  }
}
