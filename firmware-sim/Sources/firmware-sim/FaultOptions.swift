import ArgumentParser
import FirmwareSim

/// `--fault-…` flags for MQTT fleets; each overrides the scenario file's rate.
struct FaultOptions: ParsableArguments {
  @Option(help: "Rate of payloads that are not JSON.")
  var faultMalformed: Double?
  @Option(help: "Rate of payloads missing one key (device, ts or a measurement).")
  var faultMissingField: Double?
  @Option(help: "Rate of payloads with one value of the wrong JSON type.")
  var faultWrongType: Double?
  @Option(help: "Rate of messages sent twice.")
  var faultDuplicate: Double?
  @Option(help: "Rate of messages sent after the device's next one.")
  var faultOutOfOrder: Double?
  @Option(help: "Rate of messages sent late (see --late-by).")
  var faultLate: Double?
  @Option(help: "How late a late message is, simulated seconds (default 120).")
  var lateBy: Double?
  @Option(help: "Rate per reading of a device going offline, buffering, then bursting (see --offline-duration).")
  var faultOffline: Double?
  @Option(help: "Length of an outage, simulated seconds (default 300).")
  var offlineDuration: Double?
  @Option(help: "Fraction of devices with a skewed clock (see --clock-skew-max).")
  var faultClockSkew: Double?
  @Option(help: "Largest clock skew, seconds (default 120).")
  var clockSkewMax: Double?

  /// The scenario's rates with these flags applied.
  func applied(to base: FaultRates) -> FaultRates {
    var rates = base
    if let faultMalformed { rates.malformed = faultMalformed }
    if let faultMissingField { rates.missingField = faultMissingField }
    if let faultWrongType { rates.wrongType = faultWrongType }
    if let faultDuplicate { rates.duplicate = faultDuplicate }
    if let faultOutOfOrder { rates.outOfOrder = faultOutOfOrder }
    if let faultLate { rates.late = faultLate }
    if let lateBy { rates.lateBySeconds = lateBy }
    if let faultOffline { rates.offline = faultOffline }
    if let offlineDuration { rates.offlineSeconds = offlineDuration }
    if let faultClockSkew { rates.clockSkew = faultClockSkew }
    if let clockSkewMax { rates.clockSkewMaxSeconds = clockSkewMax }
    return rates
  }
}

/// Scenario selection shared by `run` and `dump`.
struct ScenarioOptions: ParsableArguments {
  @Option(help: "Scenario file (config/fleet/*.yaml).")
  var scenario: String
  @Option(help: "Seed (default: the scenario's). The same seed gives the same messages.")
  var seed: UInt64?
  @Option(help: "Simulated seconds to run (default: the scenario's duration_s).")
  var duration: Double?
  @Flag(help: "Run until one simulated minute after the last scenario failure.")
  var untilFailures = false
  @Option(help: "Start of simulated time: 'now', epoch ms, or 2026-01-05T06:00:00Z (default: the scenario's).")
  var start: String?
  @Option(help: "QoS for every device, 0 or 1 (default: per device group).")
  var qos: Int32?
  @OptionGroup var faults: FaultOptions

  func validate() throws {
    if untilFailures && duration != nil {
      throw ValidationError("use either --duration or --until-failures")
    }
    if let qos, qos != 0 && qos != 1 {
      throw ValidationError("--qos must be 0 or 1")
    }
    if let duration, !(duration > 0) {
      throw ValidationError("--duration must be positive")
    }
  }

  /// Load the scenario and build the simulator it describes.
  func simulator(speed: Double) throws -> (Scenario, FleetSimulator) {
    let scenario = try Scenario.load(path: self.scenario)
    let rates = faults.applied(to: scenario.faults)
    if let problem = rates.problems().first {
      throw ValidationError(problem)
    }
    var startText = start
    if startText == nil, case .fixed(let millis) = scenario.start { startText = String(millis) }
    let startMillis: Int64
    if let startText, startText != "now" {
      guard let millis = Scenario.epochMillis(startText) else {
        throw ValidationError("--start '\(startText)' is not 'now', epoch ms or a UTC time like 2026-01-05T06:00:00Z")
      }
      startMillis = millis
    } else {
      startMillis = SimClock.wallEpochMillis()
    }
    let seconds: Double
    if untilFailures {
      guard let last = scenario.lastFailureSeconds else {
        throw ValidationError("--until-failures: \(self.scenario) has no scenarios that fail")
      }
      seconds = last + 60
    } else {
      seconds = duration ?? scenario.durationSeconds
    }
    let simulator = FleetSimulator(
      devices: scenario.devices(qos: qos), seed: seed ?? scenario.seed,
      clock: SimClock(startEpochMillis: startMillis, speed: speed), faults: rates,
      endMillis: Int64(seconds * 1000))
    return (scenario, simulator)
  }
}
