import Payload

/// The reads one poll of a slave makes: entries of the same table merged into as few requests as
/// the size limit and the allowed gap permit, and where each entry's registers land in the poll's
/// value storage. Built once per slave; fields keep the configured order.
struct ModbusReadPlan {
  struct Read {
    var request: ModbusRequest
    /// Index of the read's first register (or bit) in the storage.
    var storage: Int
  }

  struct Field {
    var entry: RegisterMapEntry
    /// `"name":` ready to append.
    var key: [UInt8]
    var storage: Int
    /// Decimal places to round to, nil for the raw or float precision.
    var decimals: Int?
  }

  private(set) var reads: [Read] = []
  private(set) var fields: [Field] = []
  private(set) var storageCount = 0

  init(unit: Int, entries: [RegisterMapEntry], maxRegisters: Int, maxGap: Int) {
    var storageOf = [Int](repeating: 0, count: entries.count)
    for table in RegisterMapEntry.Table.allCases {
      let limit = table.isBits ? maxRegisters * 16 : maxRegisters
      let indices = entries.indices.filter { entries[$0].table == table }.sorted {
        (entries[$0].address, $0) < (entries[$1].address, $1)
      }
      var start = -1
      var end = -1
      var members: [Int] = []
      func close() {
        guard !members.isEmpty else { return }
        reads.append(
          Read(
            request: ModbusRequest(unit: UInt8(unit), table: table, address: UInt16(start), count: UInt16(end - start)),
            storage: storageCount))
        for m in members { storageOf[m] = storageCount + entries[m].address - start }
        storageCount += end - start
        members.removeAll()
      }
      for i in indices {
        let a = entries[i].address
        let b = a + entries[i].type.width
        if !members.isEmpty && a - end <= maxGap && max(end, b) - start <= limit {
          end = max(end, b)
        } else {
          close()
          start = a
          end = b
        }
        members.append(i)
      }
      close()
    }
    fields = entries.indices.map { i in
      Field(
        entry: entries[i], key: JSONWriter.encodeKey(entries[i].name), storage: storageOf[i],
        decimals: entries[i].decimals ?? Self.impliedDecimals(entries[i]))
    }
  }

  /// Decimal places a scaled integer needs: as many as the scale and the offset have (0.1 → 1).
  /// Nil (no rounding) when the value is unscaled or a float without explicit decimals.
  static func impliedDecimals(_ entry: RegisterMapEntry) -> Int? {
    if entry.scale == 1 && entry.offset == 0 { return nil }
    if entry.type == .float32 { return nil }
    return min(15, max(fractionDigits(entry.scale), fractionDigits(entry.offset)))
  }

  /// Digits after the point in the shortest decimal form of `x` (`0.25` → 2, `1e-05` → 5).
  static func fractionDigits(_ x: Double) -> Int {
    let text = x.magnitude.description
    let parts = text.split(separator: "e", maxSplits: 1)
    let mantissa = parts[0]
    var digits = 0
    if let dot = mantissa.firstIndex(of: ".") {
      let fraction = mantissa[mantissa.index(after: dot)...]
      digits = fraction == "0" ? 0 : fraction.count
    }
    let exponent = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
    return max(0, digits - exponent)
  }
}
