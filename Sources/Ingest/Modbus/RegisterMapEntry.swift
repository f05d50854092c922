public import WeirCore

/// One value a Modbus slave exposes: where it is (table and address), how its registers are laid
/// out, and how the raw number becomes the value recorded (`raw * scale + offset`, in `unit`).
/// Read from the configuration by Gateway (snake_case keys, docs/serial.md).
public struct RegisterMapEntry: Sendable, Equatable, ConfigValidating {
  /// The Modbus data table, which decides the function code used to read it.
  public enum Table: String, Sendable, CaseIterable {
    /// Read with function code 3.
    case holdingRegister = "holding_register"
    /// Read with function code 4.
    case inputRegister = "input_register"
    /// Read with function code 1.
    case coil
    /// Read with function code 2.
    case discreteInput = "discrete_input"

    /// The read function code.
    public var functionCode: UInt8 {
      switch self {
      case .coil: return 1
      case .discreteInput: return 2
      case .holdingRegister: return 3
      case .inputRegister: return 4
      }
    }

    /// Coils and discrete inputs hold single bits; the others 16-bit registers.
    public var isBits: Bool { self == .coil || self == .discreteInput }
  }

  public enum ValueType: String, Sendable, CaseIterable {
    case int16, uint16, int32, uint32, float32
    /// A coil or discrete input.
    case bool

    /// Registers (or bits) the value spans.
    public var width: Int {
      switch self {
      case .int32, .uint32, .float32: return 2
      default: return 1
      }
    }
  }

  /// Order of the two registers of a 32-bit value, or of the two bytes within a register.
  public enum Order: String, Sendable, CaseIterable {
    /// Most significant first: the Modbus standard for bytes, and the usual word order (`ABCD`).
    case big
    /// Least significant first (word swap `CDAB`; with byte order little too, `DCBA`).
    case little
  }

  /// The field name in the record. Required.
  public var name: String
  /// Default: `holding_register`.
  public var table: Table
  /// The protocol address, 0-based (register 40001 of the old numbering is `holding_register` 0).
  /// Required.
  public var address: Int
  /// Default: `uint16` for registers, `bool` for coils and discrete inputs.
  public var type: ValueType
  /// Default: `big` (high word first).
  public var wordOrder: Order
  /// Default: `big` (as the standard sends register bytes).
  public var byteOrder: Order
  /// Default: 1.
  public var scale: Double
  /// Added after scaling. Default: 0.
  public var offset: Double
  /// Unit of the recorded value (`bar`, `°C`), carried in the record's `modbus.units` header.
  /// Default: none.
  public var unit: String?
  /// Decimal places of the recorded value. Default: as many as `scale` and `offset` have (a scale
  /// of 0.1 gives one); for `float32` the precision of a 32-bit float.
  public var decimals: Int?

  public init(
    name: String, table: Table = .holdingRegister, address: Int, type: ValueType? = nil, wordOrder: Order = .big,
    byteOrder: Order = .big, scale: Double = 1, offset: Double = 0, unit: String? = nil, decimals: Int? = nil
  ) {
    self.name = name
    self.table = table
    self.address = address
    self.type = type ?? (table.isBits ? .bool : .uint16)
    self.wordOrder = wordOrder
    self.byteOrder = byteOrder
    self.scale = scale
    self.offset = offset
    self.unit = unit
    self.decimals = decimals
  }

  /// Problems with this entry, keys named as in YAML (`address`, `type`).
  public func problems() -> [ConfigIssue] {
    var issues: [ConfigIssue] = []
    if name.isEmpty { issues.append(ConfigIssue(key: "name", "must not be empty")) }
    if address < 0 || address > 65536 - type.width {
      issues.append(
        ConfigIssue(key: "address", "\(address) must be between 0 and \(65536 - type.width) for a \(type.rawValue)"))
    }
    if table.isBits && type != .bool {
      issues.append(
        ConfigIssue(key: "type", "a \(table.rawValue) holds one bit; its type must be bool, not \(type.rawValue)"))
    }
    if !table.isBits && type == .bool {
      issues.append(
        ConfigIssue(
          key: "type",
          "bool is only for coils and discrete inputs; a register is int16, uint16, int32, uint32 or float32"))
    }
    if !scale.isFinite || scale == 0 {
      issues.append(ConfigIssue(key: "scale", "\(scale) must be a finite number other than 0"))
    }
    if !offset.isFinite { issues.append(ConfigIssue(key: "offset", "must be a finite number")) }
    if let decimals, !(0...15).contains(decimals) {
      issues.append(ConfigIssue(key: "decimals", "\(decimals) must be between 0 and 15"))
    }
    return issues
  }
}
