import ArgumentParser
import Foundation
import Gateway
import WeirTools

struct IngestBench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ingest",
    abstract: "Publishers through a real MQTT broker into the log, beside a bare subscriber (the ceiling).")

  @Option(help: "The broker, mqtt://host:port.")
  var broker: String
  @Option(help: "Directory for the benchmark's log (a fresh subdirectory is made and removed).")
  var dir: String = "."
  @Option var messages: Int = 200_000
  @Option var payloadBytes: Int = 100
  @Option(help: "0 or 1.")
  var qos: Int32 = 1
  @Option var publishers: Int = 2

  func run() async throws {
    let line = try await IngestBenchmark.run(
      .init(
        broker: broker, directory: dir, messages: messages, payloadBytes: payloadBytes, qos: qos, publishers: publishers
      )
    ) { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
    print(line)
  }
}
