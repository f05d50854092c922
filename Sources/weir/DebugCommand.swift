import ArgumentParser
import Foundation
import Gateway
import PartitionedLog
import WeirTools

/// Tools for tests and benchmarks that need a log writer in a separate process to kill.
struct DebugCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "debug", abstract: "Internal tools for tests and benchmarks.", shouldDisplay: false,
    subcommands: [Append.self, DebugUplink.self, MQTTIngest.self])

  struct Append: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Append records to a log until told to stop or killed; print acknowledged offsets.")

    @Option var dir: String
    @Option var topic: String = "crash"
    @Option var partitions: Int = 1
    @Option var fsync: FsyncOption = .always
    @Option var batch: Int = 10
    @Option var recordBytes: Int = 100
    @Option(help: "Stop after this many records (0: never).")
    var records: Int = 0
    @Option(help: "Stop after this many bytes (0: never).")
    var bytes: Int64 = 0
    @Flag(help: "Print 'acked PARTITION LAST_OFFSET' after every append.")
    var printAcks = false
    @Flag(help: "When done, print 'filled' and wait to be killed instead of closing the log.")
    var hold = false

    func run() throws {
      try DebugAppender.run(
        directory: dir, topic: topic, partitions: partitions, fsync: fsync.policy(intervalMs: 50), batch: batch,
        recordBytes: recordBytes, records: records, bytes: bytes, printAcks: printAcks, hold: hold)
    }
  }
}
