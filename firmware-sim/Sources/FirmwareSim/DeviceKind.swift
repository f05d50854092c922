/// What a simulated device is. The raw value is the payload's `kind` field and the id prefix.
public enum DeviceKind: String, Sendable, Codable, CaseIterable {
  case motor
  case pump
  case env

  /// The measurements this kind reports, in payload order.
  public var fields: [FieldSpec] {
    switch self {
    case .motor: FieldSpec.motor
    case .pump: FieldSpec.pump
    case .env: FieldSpec.environment
    }
  }

  /// The index of a field by name, if this kind has it.
  public func fieldIndex(_ name: String) -> Int? {
    fields.firstIndex { $0.name == name }
  }

  /// Numeric code of the kind in the Modbus register map.
  var modbusCode: UInt16 {
    switch self {
    case .motor: 1
    case .pump: 2
    case .env: 3
    }
  }
}

/// One measurement of a device: its payload name, unit, and sensor resolution.
public struct FieldSpec: Sendable, Equatable {
  /// The JSON key.
  public let name: String
  /// The physical unit (documentation, NMEA XDR units).
  public let unit: String
  /// Decimal digits the sensor reports (its quantisation step is 10^-decimals).
  public let decimals: Int
  /// Multiplier for the scaled int16 Modbus registers.
  public let modbusScale: Double

  static let motor: [FieldSpec] = [
    FieldSpec(name: "vibration", unit: "mm/s", decimals: 2, modbusScale: 100),
    FieldSpec(name: "temperature", unit: "C", decimals: 1, modbusScale: 10),
    FieldSpec(name: "current", unit: "A", decimals: 2, modbusScale: 100),
    FieldSpec(name: "rpm", unit: "rpm", decimals: 0, modbusScale: 1),
  ]
  static let pump: [FieldSpec] = [
    FieldSpec(name: "pressure", unit: "bar", decimals: 2, modbusScale: 100),
    FieldSpec(name: "flow", unit: "m3/h", decimals: 1, modbusScale: 10),
    FieldSpec(name: "temperature", unit: "C", decimals: 1, modbusScale: 10),
  ]
  static let environment: [FieldSpec] = [
    FieldSpec(name: "temperature", unit: "C", decimals: 1, modbusScale: 10),
    FieldSpec(name: "humidity", unit: "%", decimals: 1, modbusScale: 10),
  ]
}

/// One sample of a device: simulated time and the quantised values, in ``DeviceKind/fields`` order
/// (unused lanes are zero). A SIMD vector keeps readings off the heap.
public struct Reading: Sendable, Equatable {
  /// Simulated milliseconds since the start of the run.
  public var simMillis: Int64
  /// Values aligned with the kind's fields.
  public var values: SIMD4<Double>

  public init(simMillis: Int64, values: SIMD4<Double>) {
    self.simMillis = simMillis
    self.values = values
  }
}
