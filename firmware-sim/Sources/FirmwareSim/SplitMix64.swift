/// SplitMix64 (Steele, Lea, Flood 2014): a tiny seeded generator, used to expand one seed into the
/// state of ``Xoshiro256`` and to derive independent per-device streams from (seed, device, stream).
///
/// The simulator never uses `SystemRandomNumberGenerator`: every value a device publishes is a pure
/// function of the seed, so a run can be replayed byte for byte.
public struct SplitMix64: RandomNumberGenerator, Sendable {
  private var state: UInt64

  public init(seed: UInt64) {
    state = seed
  }

  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    return Self.mix(state)
  }

  /// The SplitMix64 output function, a strong 64-bit mixer.
  public static func mix(_ value: UInt64) -> UInt64 {
    var z = value
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// A seed for an independent stream, derived from a root seed and a path of identifiers
  /// (device index, stream purpose). Changing any component changes the whole stream.
  public static func derive(_ seed: UInt64, _ path: UInt64...) -> UInt64 {
    var value = mix(seed ^ 0x6A09_E667_F3BC_C908)
    for component in path {
      value = mix(value &+ mix(component &+ 0x9E37_79B9_7F4A_7C15))
    }
    return value
  }
}
