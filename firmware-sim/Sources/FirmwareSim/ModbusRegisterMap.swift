/// How a device's readings appear in its Modbus tables (documented in docs/firmware-sim.md).
///
/// Input registers (function 4) and holding registers (function 3) hold the same 64 registers:
///
/// | address | content |
/// |---|---|
/// | 0-7 | field *i* as float32 at 2*i*, big-endian word order (ABCD: high word first) |
/// | 16-23 | the same floats, word-swapped (CDAB: low word first) |
/// | 32-35 | field *i* as int16 at 32+*i*, scaled by the field's factor (×100, ×10 or ×1) |
/// | 48 | kind code (1 motor, 2 pump, 3 env) |
/// | 49 | device number (`motor-0007` → 7) |
/// | 50-51 | uptime in simulated seconds, uint32, high word first |
/// | 52 | status bits: 0 running, 1 warning (degradation half-way), 2 failed |
/// | 53 | sample counter, uint16, wraps |
/// | 56 | slave address (holding only, else 0) |
/// | 57 | reporting interval in seconds (holding only, else 0) |
///
/// Unused registers read 0. Coils (function 1) 0-15: bit 0 running, 1 warning, 2 failed; discrete
/// inputs (function 2) 0-15: the same plus bit 3, a heartbeat that toggles every simulated second.
/// Reading past address 63 (registers) or 15 (bits) gives exception 02.
public enum ModbusRegisterMap {
  public static let registerCount = 64
  public static let bitCount = 16

  public static let floatBigEndianBase = 0
  public static let floatWordSwappedBase = 16
  public static let scaledInt16Base = 32

  public enum WordOrder: Sendable {
    /// ABCD: the high word first (Modbus's own big-endian convention).
    case bigEndian
    /// CDAB: the low word first, as many PLCs and meters send it.
    case wordSwapped
  }

  /// The state a device exposes besides its readings.
  public struct Status: Sendable, Equatable {
    public var running = true
    public var warning = false
    public var failed = false
    public var uptimeSeconds: UInt32 = 0
    public var sampleCounter: UInt16 = 0
    public var heartbeat = false

    public init() {}
  }

  /// Build the tables for a reading.
  public static func bank(
    kind: DeviceKind, deviceNumber: Int, values: SIMD4<Double>, status: Status,
    slaveAddress: UInt8, intervalSeconds: Int
  ) -> ModbusRegisterBank {
    var registers = [UInt16](repeating: 0, count: registerCount)
    for (index, field) in kind.fields.enumerated() {
      let value = Float(values[index])
      let big = float32Words(value, order: .bigEndian)
      registers[floatBigEndianBase + 2 * index] = big.0
      registers[floatBigEndianBase + 2 * index + 1] = big.1
      let swapped = float32Words(value, order: .wordSwapped)
      registers[floatWordSwappedBase + 2 * index] = swapped.0
      registers[floatWordSwappedBase + 2 * index + 1] = swapped.1
      registers[scaledInt16Base + index] = scaledInt16(values[index], scale: field.modbusScale)
    }
    registers[48] = kind.modbusCode
    registers[49] = UInt16(truncatingIfNeeded: deviceNumber)
    registers[50] = UInt16(status.uptimeSeconds >> 16)
    registers[51] = UInt16(status.uptimeSeconds & 0xFFFF)
    registers[52] = statusBits(status)
    registers[53] = status.sampleCounter
    var holding = registers
    holding[56] = UInt16(slaveAddress)
    holding[57] = UInt16(clamping: intervalSeconds)

    var bits = [Bool](repeating: false, count: bitCount)
    bits[0] = status.running
    bits[1] = status.warning
    bits[2] = status.failed
    var inputs = bits
    inputs[3] = status.heartbeat
    return ModbusRegisterBank(coils: bits, discreteInputs: inputs, holdingRegisters: holding, inputRegisters: registers)
  }

  /// The two registers of an IEEE 754 float32 in the given word order.
  public static func float32Words(_ value: Float, order: WordOrder) -> (UInt16, UInt16) {
    let bits = value.bitPattern
    let high = UInt16(bits >> 16)
    let low = UInt16(bits & 0xFFFF)
    return order == .bigEndian ? (high, low) : (low, high)
  }

  /// Decode two registers back into a float32.
  public static func float32(_ first: UInt16, _ second: UInt16, order: WordOrder) -> Float {
    let (high, low) = order == .bigEndian ? (first, second) : (second, first)
    return Float(bitPattern: UInt32(high) << 16 | UInt32(low))
  }

  /// A value times its scale as a two's-complement int16, saturating at the ends.
  public static func scaledInt16(_ value: Double, scale: Double) -> UInt16 {
    let scaled = (value * scale).rounded()
    let clamped = Int16(max(min(scaled, Double(Int16.max)), Double(Int16.min)))
    return UInt16(bitPattern: clamped)
  }

  static func statusBits(_ status: Status) -> UInt16 {
    (status.running ? 1 : 0) | (status.warning ? 2 : 0) | (status.failed ? 4 : 0)
  }
}
