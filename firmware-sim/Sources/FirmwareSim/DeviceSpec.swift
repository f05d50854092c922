/// One simulated device: what it is, how often it reports, and how (if at all) it degrades.
public struct DeviceSpec: Sendable, Equatable {
  /// The device id, `<kind>-<nnnn>` for scenario fleets (`motor-0007`).
  public var id: String
  public var kind: DeviceKind
  /// Reporting interval in simulated milliseconds.
  public var intervalMillis: Int64
  /// MQTT QoS for this device's messages (0 or 1).
  public var qos: Int32
  /// The degradation this device goes through, if any.
  public var degradation: Degradation?

  public init(
    id: String, kind: DeviceKind, intervalMillis: Int64, qos: Int32 = 0,
    degradation: Degradation? = nil
  ) {
    self.id = id
    self.kind = kind
    self.intervalMillis = intervalMillis
    self.qos = qos
    self.degradation = degradation
  }

  /// The id for the `number`-th device of a kind (1-based): `motor-0007`.
  public static func id(kind: DeviceKind, number: Int) -> String {
    var digits = String(number)
    while digits.count < 4 { digits = "0" + digits }
    return "\(kind.rawValue)-\(digits)"
  }

  /// A stable 64-bit hash of the id (FNV-1a), so a device's random streams depend on its name and
  /// the seed, not on its position in the fleet.
  var idHash: UInt64 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in id.utf8 {
      hash ^= UInt64(byte)
      hash &*= 0x0000_0100_0000_01B3
    }
    return hash
  }

  /// Seeds for this device's independent streams: the signal model, the fault draws, and the
  /// one-off draws (phase, clock skew). Enabling a fault never changes the signal values.
  func streamSeed(_ seed: UInt64, _ stream: DeviceStream) -> UInt64 {
    SplitMix64.derive(seed, idHash, stream.rawValue)
  }
}

enum DeviceStream: UInt64 {
  case model = 1
  case faults = 2
  case setup = 3
}
