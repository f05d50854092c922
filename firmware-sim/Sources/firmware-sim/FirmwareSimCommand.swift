import ArgumentParser

/// `firmware-sim`: Weir's simulated sensor fleet.
@main
struct FirmwareSimCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "firmware-sim",
    abstract: "A simulated sensor fleet for the Weir gateway: MQTT devices, serial devices, load.",
    discussion: """
      Devices follow physical-looking, seeded signals; degradation scenarios end in failures at \
      known times (written to a ground-truth file). See docs/firmware-sim.md.
      """,
    subcommands: [RunCommand.self, LoadCommand.self, SerialCommand.self, DumpCommand.self])
}
