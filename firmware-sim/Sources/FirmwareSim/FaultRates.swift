/// Faults injected on demand, each with a rate. Every rate is a probability per reading unless
/// said otherwise; the three content faults are exclusive (one reading gets at most one of them),
/// so their rates must add up to at most 1.
public struct FaultRates: Sendable, Equatable, Codable {
  /// Payload bytes that are not JSON (truncated, `=` for `:`, a doubled `{`).
  public var malformed: Double = 0
  /// One key left out: `device`, `ts` or a measurement.
  public var missingField: Double = 0
  /// One value of the wrong JSON type: a number written as a string, or the device id as a number.
  public var wrongType: Double = 0
  /// The same message (identical bytes) sent twice in a row.
  public var duplicate: Double = 0
  /// The message held back and sent just after the device's next reading.
  public var outOfOrder: Double = 0
  /// The message sent ``lateBySeconds`` after its timestamp.
  public var late: Double = 0
  /// How late a late message is, in simulated seconds. Default: 120.
  public var lateBySeconds: Double = 120
  /// Probability per reading, while online, that the device goes offline for ``offlineSeconds``,
  /// buffering its readings, then sends them all at once when it comes back.
  public var offline: Double = 0
  /// How long an outage lasts, in simulated seconds. Default: 300.
  public var offlineSeconds: Double = 300
  /// Fraction of devices whose clock is off by a constant skew.
  public var clockSkew: Double = 0
  /// Largest skew, in seconds; a skewed clock is off by 10-100 % of it, ahead or behind. Default: 120.
  public var clockSkewMaxSeconds: Double = 120

  public init() {}

  enum CodingKeys: String, CodingKey {
    case malformed
    case missingField = "missing_field"
    case wrongType = "wrong_type"
    case duplicate
    case outOfOrder = "out_of_order"
    case late
    case lateBySeconds = "late_by_s"
    case offline
    case offlineSeconds = "offline_s"
    case clockSkew = "clock_skew"
    case clockSkewMaxSeconds = "clock_skew_max_s"
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    func value(_ key: CodingKeys, _ fallback: Double) throws -> Double {
      try container.decodeIfPresent(Double.self, forKey: key) ?? fallback
    }
    malformed = try value(.malformed, 0)
    missingField = try value(.missingField, 0)
    wrongType = try value(.wrongType, 0)
    duplicate = try value(.duplicate, 0)
    outOfOrder = try value(.outOfOrder, 0)
    late = try value(.late, 0)
    lateBySeconds = try value(.lateBySeconds, 120)
    offline = try value(.offline, 0)
    offlineSeconds = try value(.offlineSeconds, 300)
    clockSkew = try value(.clockSkew, 0)
    clockSkewMaxSeconds = try value(.clockSkewMaxSeconds, 120)
  }

  /// Problems with these rates, each a sentence a person can act on; empty when valid.
  public func problems() -> [String] {
    var problems: [String] = []
    let rates: [(String, Double)] = [
      ("malformed", malformed), ("missing_field", missingField), ("wrong_type", wrongType),
      ("duplicate", duplicate), ("out_of_order", outOfOrder), ("late", late),
      ("offline", offline), ("clock_skew", clockSkew),
    ]
    for (name, rate) in rates where !(0...1).contains(rate) {
      problems.append("fault rate \(name) is \(rate); rates are probabilities between 0 and 1")
    }
    if malformed + missingField + wrongType > 1 {
      problems.append("malformed + missing_field + wrong_type add up to more than 1")
    }
    if lateBySeconds <= 0 { problems.append("late_by_s must be positive") }
    if offlineSeconds <= 0 { problems.append("offline_s must be positive") }
    if clockSkewMaxSeconds < 0 { problems.append("clock_skew_max_s must not be negative") }
    return problems
  }
}

/// The faults a message carries, for tests and statistics (never part of the payload).
public struct FaultSet: OptionSet, Sendable, Hashable {
  public let rawValue: UInt16
  public init(rawValue: UInt16) { self.rawValue = rawValue }

  public static let malformed = FaultSet(rawValue: 1 << 0)
  public static let missingField = FaultSet(rawValue: 1 << 1)
  public static let wrongType = FaultSet(rawValue: 1 << 2)
  public static let duplicate = FaultSet(rawValue: 1 << 3)
  public static let outOfOrder = FaultSet(rawValue: 1 << 4)
  public static let late = FaultSet(rawValue: 1 << 5)
  public static let buffered = FaultSet(rawValue: 1 << 6)
  public static let skewed = FaultSet(rawValue: 1 << 7)
}
