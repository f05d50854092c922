import ArgumentParser
import Foundation
import Gateway
import PartitionedLog
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

struct ListenerBench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "listener",
    abstract:
      "The same publishers into Weir's own MQTT listener and durable log, and through mosquitto to a bare subscriber (the old path's ceiling)."
  )

  @Option(help: "mosquitto for the ceiling, mqtt://host:port (empty: skip the ceiling).")
  var broker: String = ""
  @Option(help: "Directory for the benchmark's log (a fresh subdirectory is made and removed).")
  var dir: String = "."
  @Option var messages: Int = 500_000
  @Option var payloadBytes: Int = 100
  @Option(help: "0 or 1.")
  var qos: Int = 1
  @Option var publishers: Int = 2
  @Option(help: "Partitions of the telemetry topic.")
  var partitions: Int = 6
  @Option(help: "QoS 1 messages each publisher keeps in flight (at most 1024).")
  var window: Int = 1000
  @Option(help: "The topic's fsync policy: interval (50 ms), always or never.")
  var fsync: String = "interval"

  func run() async throws {
    let policy: FsyncPolicy
    switch fsync {
    case "interval": policy = .default
    case "always": policy = .always
    case "never": policy = .never
    default: throw ValidationError("--fsync: interval, always or never")
    }
    let line = try await ListenerBenchmark.run(
      .init(
        broker: broker, directory: dir, messages: messages, payloadBytes: payloadBytes, qos: qos,
        publishers: publishers, partitions: partitions, fsync: policy, window: window)
    ) { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
    print(line)
  }
}
