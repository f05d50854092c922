import Foundation
import Testing
@testable import FirmwareSim

struct DegradationTests {
  struct Case: Sendable, CustomTestStringConvertible {
    var kind: DeviceKind
    var mode: FailureMode
    var onsetSeconds: Int64
    var failureSeconds: Int64
    var threshold: Double?
    var testDescription: String { "\(mode.rawValue) on a \(kind.rawValue)" }
  }

  static let cases: [Case] = [
    Case(kind: .motor, mode: .bearingWear, onsetSeconds: 600, failureSeconds: 2700),
    Case(kind: .motor, mode: .bearingWear, onsetSeconds: 3600, failureSeconds: 14400),
    Case(kind: .motor, mode: .overheating, onsetSeconds: 1200, failureSeconds: 4800),
    Case(kind: .pump, mode: .overheating, onsetSeconds: 1800, failureSeconds: 7200, threshold: 90),
    Case(kind: .pump, mode: .cavitation, onsetSeconds: 900, failureSeconds: 3300),
  ]

  /// The signal, averaged over a centred one-minute window, crosses the documented threshold at
  /// the ground-truth failure time (within 5 % of the degradation's length or a minute).
  @Test(arguments: cases)
  func signalCrossesThresholdAtGroundTruthFailureTime(_ scenario: Case) throws {
    for seed: UInt64 in [1, 2, 3] {
      let degradation = Degradation(
        mode: scenario.mode, onsetMillis: scenario.onsetSeconds * 1000,
        failureMillis: scenario.failureSeconds * 1000, threshold: scenario.threshold)
      let device = DeviceSpec(id: "\(scenario.kind.rawValue)-0042", kind: scenario.kind, intervalMillis: 5000, degradation: degradation)
      let simulator = FleetSimulator(
        devices: [device], seed: seed, clock: SimClock(startEpochMillis: testStart, speed: 1),
        faults: FaultRates(), endMillis: (scenario.failureSeconds + 1800) * 1000)
      let truth = try #require(simulator.groundTruth.first)
      #expect(truth.failureTimestamp == testStart + scenario.failureSeconds * 1000)
      #expect(truth.onsetTimestamp == testStart + scenario.onsetSeconds * 1000)

      let messages = TestSupport.drain(simulator)
      #expect(scenario.kind.fieldIndex(scenario.mode.signal) != nil)
      // Read the signal back from the payloads, as a consumer would.
      let series: [(time: Int64, value: Double)] = messages.map { message in
        let object = TestSupport.jsonObject(message.payload)!
        return ((object["ts"] as! NSNumber).int64Value - testStart, (object[scenario.mode.signal] as! NSNumber).doubleValue)
      }
      #expect(series.count == messages.count)
      let threshold = scenario.threshold ?? scenario.mode.defaultThreshold
      let rising = scenario.mode.risesToFailure
      func beyond(_ value: Double) -> Bool { rising ? value >= threshold : value <= threshold }

      let half = 6  // 6 samples of 5 s each side: a one-minute window
      var crossing: Int64?
      for index in half..<(series.count - half) {
        let window = series[(index - half)...(index + half)].map(\.value)
        if beyond(window.reduce(0, +) / Double(window.count)) {
          crossing = series[index].time
          break
        }
      }
      let crossed = try #require(crossing, "seed \(seed): the averaged signal never crossed \(threshold)")
      let span = (scenario.failureSeconds - scenario.onsetSeconds) * 1000
      let tolerance = max(span / 20, 60_000)
      #expect(abs(crossed - scenario.failureSeconds * 1000) <= tolerance,
        "seed \(seed): crossed at \(crossed / 1000) s, ground truth \(scenario.failureSeconds) s")

      // Healthy before the onset: no single reading anywhere near the threshold.
      let healthy = series.filter { $0.time < scenario.onsetSeconds * 1000 }.map(\.value)
      #expect(!healthy.isEmpty)
      #expect(healthy.allSatisfy { rising ? $0 < threshold * 0.8 : $0 > threshold * 1.3 })
    }
  }

  @Test func bearingTemperatureFollowsVibration() {
    let degradation = Degradation(mode: .bearingWear, onsetMillis: 600_000, failureMillis: 2_700_000)
    let device = DeviceSpec(id: "motor-0007", kind: .motor, intervalMillis: 5000, degradation: degradation)
    let healthyTwin = DeviceSpec(id: "motor-0007", kind: .motor, intervalMillis: 5000)
    func temperatures(_ device: DeviceSpec) -> [Double] {
      TestSupport.drain(
        FleetSimulator(
          devices: [device], seed: 9, clock: SimClock(startEpochMillis: testStart, speed: 1),
          faults: FaultRates(), endMillis: 2_700_000)
      ).map { $0.values[1] }
    }
    let worn = temperatures(device)
    let healthy = temperatures(healthyTwin)
    #expect(worn.count == healthy.count)
    // Same device, same seed: identical until the wear starts, then clearly hotter at the failure.
    #expect(worn.first == healthy.first)
    let lastMinute = 12
    let excess = zip(worn.suffix(lastMinute), healthy.suffix(lastMinute)).map { $0 - $1 }.reduce(0, +) / Double(lastMinute)
    #expect(excess > 12 && excess < 35, "bearing \(excess) °C hotter at the failure")
  }

  @Test(arguments: FailureMode.allCases)
  func progressIsZeroAtOnsetAndOneAtFailure(_ mode: FailureMode) {
    let degradation = Degradation(mode: mode, onsetMillis: 1000, failureMillis: 101_000)
    #expect(degradation.progress(at: 0) == 0)
    #expect(degradation.progress(at: 1000) == 0)
    #expect(abs(degradation.progress(at: 101_000) - 1) < 1e-12)
    #expect(degradation.progress(at: 51_000) > 0 && degradation.progress(at: 51_000) < 1)
    #expect(degradation.progress(at: 200_000) > 1)
    #expect(degradation.progress(at: 10_000_000) <= Degradation.maximumProgress)
  }

  @Test func cavitationWidensPressureNoise() {
    let degradation = Degradation(mode: .cavitation, onsetMillis: 3_600_000, failureMillis: 7_200_000)
    let device = DeviceSpec(id: "pump-0001", kind: .pump, intervalMillis: 2000, degradation: degradation)
    let messages = TestSupport.drain(
      FleetSimulator(
        devices: [device], seed: 4, clock: SimClock(startEpochMillis: testStart, speed: 1),
        faults: FaultRates(), endMillis: 7_200_000))
    func deviation(_ range: Range<Int64>) -> Double {
      // Deviation of successive differences, insensitive to the slow trend.
      let values = messages.filter { range.contains($0.readingMillis) }.map { $0.values[0] }
      let differences = zip(values, values.dropFirst()).map { $1 - $0 }
      let mean = differences.reduce(0, +) / Double(differences.count)
      return (differences.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(differences.count)).squareRoot()
    }
    let before = deviation(0..<3_600_000)
    let late = deviation(6_600_000..<7_200_000)
    #expect(late > 5 * before)
  }
}
