import Foundation

/// A failure mode a device can be driven into.
public enum FailureMode: String, Sendable, Codable, CaseIterable {
  /// Motor bearing wear: vibration RMS rises exponentially toward the ISO 10816 zone C/D limit, the
  /// bearing temperature follows.
  case bearingWear = "bearing_wear"
  /// Loss of cooling (motor or pump): temperature climbs like a thermal mass toward a new, too-high
  /// equilibrium.
  case overheating
  /// Pump cavitation: discharge pressure drops with growing variance, flow falls off.
  case cavitation

  /// The field whose noise-free value crosses the threshold at the failure time.
  public var signal: String {
    switch self {
    case .bearingWear: "vibration"
    case .overheating: "temperature"
    case .cavitation: "pressure"
    }
  }

  /// The failure threshold used unless a scenario sets its own.
  public var defaultThreshold: Double {
    switch self {
    case .bearingWear: 11.2
    case .overheating: 95.0
    case .cavitation: 1.5
    }
  }

  /// Whether the signal fails by rising above (true) or falling below (false) the threshold.
  public var risesToFailure: Bool {
    self != .cavitation
  }

  /// The device kinds this mode applies to.
  public var kinds: [DeviceKind] {
    switch self {
    case .bearingWear: [.motor]
    case .overheating: [.motor, .pump]
    case .cavitation: [.pump]
    }
  }
}

/// A degradation from `onsetMillis` to `failureMillis` (simulated). The shape function `progress`
/// is 0 before the onset and exactly 1 at the failure time; a model blends its healthy mean toward
/// the threshold with it, so the noise-free signal equals the threshold at the failure time.
public struct Degradation: Sendable, Equatable {
  public let mode: FailureMode
  public let onsetMillis: Int64
  public let failureMillis: Int64
  public let threshold: Double

  /// Growth rate of the bearing-wear exponential (e^5: most of the rise is in the last fifth).
  static let wearGrowth = 5.0
  /// Curvature of the overheating approach (a thermal mass heading for a hotter equilibrium).
  static let heatCurvature = 1.5
  /// Progress is capped after the failure, so failed devices report large but finite values.
  static let maximumProgress = 3.0

  public init(mode: FailureMode, onsetMillis: Int64, failureMillis: Int64, threshold: Double? = nil) {
    precondition(failureMillis > onsetMillis, "failure must come after onset")
    self.mode = mode
    self.onsetMillis = onsetMillis
    self.failureMillis = failureMillis
    self.threshold = threshold ?? mode.defaultThreshold
  }

  /// Fraction of the way from healthy to the threshold at `simMillis`: 0 before the onset, 1 at the
  /// failure time, more afterwards (up to ``maximumProgress``).
  public func progress(at simMillis: Int64) -> Double {
    guard simMillis > onsetMillis else { return 0 }
    let x = Double(simMillis - onsetMillis) / Double(failureMillis - onsetMillis)
    let g: Double
    switch mode {
    case .bearingWear:
      let k = Self.wearGrowth
      g = (exp(k * x) - 1) / (exp(k) - 1)
    case .overheating:
      let a = Self.heatCurvature
      // Past the failure the curve keeps rising linearly at its final slope.
      if x <= 1 {
        g = (1 - exp(-a * x)) / (1 - exp(-a))
      } else {
        g = 1 + (x - 1) * a * exp(-a) / (1 - exp(-a))
      }
    case .cavitation:
      g = x * x
    }
    return min(g, Self.maximumProgress)
  }

  /// Whether the device has failed at `simMillis`.
  public func hasFailed(at simMillis: Int64) -> Bool {
    simMillis >= failureMillis
  }

  /// Blend a healthy mean toward the threshold: equal to `healthy` before the onset and to the
  /// threshold at the failure time.
  func blend(healthy: Double, at simMillis: Int64) -> Double {
    healthy + (threshold - healthy) * progress(at: simMillis)
  }
}
