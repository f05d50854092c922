import ArgumentParser
import FirmwareSim

/// `firmware-sim serial`: one device on a pseudo-terminal.
struct SerialCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "serial",
    abstract: "Play one device on a pseudo-terminal, symlinked at --link for the gateway to open.")

  @Option(name: .customLong("protocol"), help: "nmea, csv, jsonl or modbus-rtu.")
  var lineProtocol: String
  @Option(help: "Symlink to create for the pty slave (what the gateway opens).")
  var link: String
  @Option(help: "Device kind: motor, pump or env.")
  var kind: String = "motor"
  @Option(help: "Device id (default <kind>-0001).")
  var deviceId: String?
  @Option(help: "Reporting interval, simulated seconds.")
  var interval: Double = 1
  @Option(help: "Take the device (and its degradation) from this scenario file (with --device-id).")
  var scenario: String?
  @Option(help: "Seed.")
  var seed: UInt64 = 1
  @Option(help: "Simulated seconds per real second.")
  var speed: Double = 1
  @Option(help: "Stop after this many simulated seconds (default: until interrupted).")
  var duration: Double?
  @Option(help: "Start of simulated time: 'now', epoch ms or a UTC time.")
  var start: String = "now"
  @Option(help: "Modbus slave address (1-247).")
  var address: UInt8 = 1
  @Option(help: "Repeat the CSV header every N rows (0: only at the start).")
  var csvHeaderEvery: Int = 0
  @Option(help: "Rate of NMEA sentences (or Modbus responses) with a wrong checksum (CRC).")
  var faultBadChecksum: Double = 0
  @Option(help: "Rate of lines preceded by 1-32 garbage bytes.")
  var faultGarbage: Double = 0
  @Option(help: "Rate of lines preceded by an over-long line (see --overlong-bytes).")
  var faultOverlong: Double = 0
  @Option(help: "Length of an over-long line.")
  var overlongBytes: Int = 4096
  @Option(help: "Rate of Modbus requests left unanswered.")
  var faultNoResponse: Double = 0
  @Flag(help: "No progress lines on stderr.")
  var quiet = false

  func validate() throws {
    guard SerialProtocol(rawValue: lineProtocol) != nil else {
      throw ValidationError("--protocol must be one of nmea, csv, jsonl, modbus-rtu")
    }
    guard DeviceKind(rawValue: kind) != nil else {
      throw ValidationError("--kind must be motor, pump or env")
    }
    if !(interval >= 0.001) { throw ValidationError("--interval must be at least 0.001") }
    if !(speed > 0) { throw ValidationError("--speed must be positive") }
    if !(1...247).contains(address) { throw ValidationError("--address must be 1-247") }
  }

  func run() throws {
    let device = try deviceSpec()
    let startMillis: Int64
    if start == "now" {
      startMillis = SimClock.wallEpochMillis()
    } else {
      guard let millis = Scenario.epochMillis(start) else {
        throw ValidationError("--start '\(start)' is not 'now', epoch ms or a UTC time")
      }
      startMillis = millis
    }
    var options = SerialOptions(
      lineProtocol: SerialProtocol(rawValue: lineProtocol)!, link: link, device: device, seed: seed,
      startEpochMillis: startMillis)
    options.speed = speed
    options.durationSeconds = duration
    options.modbusAddress = address
    options.csvHeaderEvery = csvHeaderEvery
    options.faults.badChecksum = faultBadChecksum
    options.faults.garbage = faultGarbage
    options.faults.overlong = faultOverlong
    options.faults.overlongBytes = overlongBytes
    options.faults.noResponse = faultNoResponse
    let player = try SerialDevicePlayer(options)
    let stop = StopFlag()
    let signals = SignalHandling(stop: stop)
    try player.run(stop: stop, progress: Terminal.progress(quiet: quiet))
    player.terminal.close()
    withExtendedLifetime(signals) {}
  }

  private func deviceSpec() throws -> DeviceSpec {
    let kind = DeviceKind(rawValue: kind)!
    if let scenario {
      let loaded = try Scenario.load(path: scenario)
      let id = deviceId ?? DeviceSpec.id(kind: kind, number: 1)
      guard let device = loaded.devices().first(where: { $0.id == id }) else {
        throw ValidationError("\(scenario) has no device \(id)")
      }
      return device
    }
    return DeviceSpec(
      id: deviceId ?? DeviceSpec.id(kind: kind, number: 1), kind: kind,
      intervalMillis: Int64(interval * 1000))
  }
}
