import ArgumentParser
import FirmwareSim
import Foundation

/// `firmware-sim dump`: the fleet's messages as JSON lines on stdout, no broker needed (input for
/// `weir rules test`, or for diffing two seeds).
struct DumpCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "dump",
    abstract: "Print a scenario's messages as JSON lines, in send order, without a broker.")

  @OptionGroup var scenario: ScenarioOptions
  @Option(help: "Write the ground truth (JSON lines) here.")
  var groundTruth: String?

  func run() throws {
    var (_, simulator) = try scenario.simulator(speed: 1)
    if let groundTruth {
      try GroundTruthRecord.jsonLines(simulator.groundTruth)
        .write(toFile: groundTruth, atomically: true, encoding: .utf8)
    }
    var buffer: [UInt8] = []
    buffer.reserveCapacity(1 << 16)
    while let message = simulator.next() {
      buffer.append(contentsOf: message.payload)
      buffer.append(0x0A)
      if buffer.count >= 1 << 16 {
        FileHandle.standardOutput.write(Data(buffer))
        buffer.removeAll(keepingCapacity: true)
      }
    }
    FileHandle.standardOutput.write(Data(buffer))
  }
}
