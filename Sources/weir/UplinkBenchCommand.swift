import ArgumentParser
import Foundation
import Gateway
import Uplink
import WeirTools

/// `weir bench uplink`: the Kafka uplink against a bare librdkafka producer, same run, same data.
struct UplinkBench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "uplink",
    abstract: "Forward a log to an in-process mock Kafka cluster; compare with a bare librdkafka producer.")

  @Option(help: "Directory to benchmark in (a fresh subdirectory is made and removed).")
  var dir: String = "."
  @Option(help: "Records to forward.")
  var records: Int = 1_000_000
  @Option(help: "Bytes per record value.")
  var recordBytes: Int = 100
  @Option(help: "Partitions (local and remote).")
  var partitions: Int = 6
  @Option(help: "Mock brokers.")
  var brokers: Int = 3
  @Option(help: "none | gzip | snappy | lz4 | zstd")
  var compression: String = "lz4"
  @Option(help: "librdkafka linger.ms.")
  var lingerMs: Int = 5
  @Option(help: "In-flight window in records.")
  var windowRecords: Int = 200_000
  @Option(help: "Also time the catch-up of a backlog of this size (suffixes: KiB MiB GiB).")
  var backlogBytes: String?
  @Option(help: "Uplink and bare-producer runs, alternated; medians are reported.")
  var rounds: Int = 3
  @Flag(help: "Keep the benchmark's log directory.")
  var keep = false

  func run() async throws {
    guard let codec = KafkaCompression(rawValue: compression) else {
      throw ValidationError(
        "compression must be one of \(KafkaCompression.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    var backlog: Int64?
    if let backlogBytes {
      guard let bytes = parseByteSize(backlogBytes) else {
        throw ValidationError("cannot read the size '\(backlogBytes)'")
      }
      backlog = bytes
    }
    let line = try await UplinkBenchmark.run(
      .init(
        directory: dir, records: records, recordBytes: recordBytes, partitions: partitions, brokers: brokers,
        compression: codec, lingerMs: lingerMs, window: InFlightWindow(maxRecords: windowRecords, maxBytes: 256 << 20),
        backlogBytes: backlog, rounds: rounds, keepData: keep)
    ) { progress in
      FileHandle.standardError.write(Data((progress + "\n").utf8))
    }
    print(line)
  }
}
