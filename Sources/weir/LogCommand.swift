import ArgumentParser
import Foundation
import Gateway
import PartitionedLog

struct LogCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "log", abstract: "Inspect a data directory's log files (read-only).",
    subcommands: [Verify.self, Dump.self])

  struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Check every batch CRC, offset and index entry; exit 1 and one line per problem if any.")

    @Argument(help: "The data directory (holding log/ and weir.db).")
    var directory: String

    @Flag(help: "Print each segment as it is checked.")
    var verbose = false

    func run() throws {
      let summary = try LogVerifier.verify(dataDirectory: directory) { segment in
        if verbose { FileHandle.standardError.write(Data("checking \(segment)\n".utf8)) }
      }
      for problem in summary.problems { print(problem) }
      let line =
        "\(summary.partitions) partitions, \(summary.segments) segments, \(summary.batches) batches, \(summary.records) records, \(summary.bytes) bytes: "
        + (summary.problems.isEmpty ? "ok" : "\(summary.problems.count) problem(s)")
      FileHandle.standardError.write(Data((line + "\n").utf8))
      if !summary.problems.isEmpty { throw ExitCode(1) }
    }
  }

  struct Dump: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a partition's records as JSON lines.")

    @Argument(help: "The data directory.")
    var directory: String

    @Option(help: "Topic name.")
    var topic: String

    @Option(help: "Partition number.")
    var partition: Int32 = 0

    @Option(help: "First offset to print.")
    var from: Int64 = 0

    @Option(help: "Print at most this many records.")
    var max: Int64?

    func run() throws {
      var out = ""
      try LogDump.run(dataDirectory: directory, topic: topic, partition: partition, from: from, max: max) { line in
        out += line
        out += "\n"
        if out.utf8.count > 1 << 16 {
          FileHandle.standardOutput.write(Data(out.utf8))
          out = ""
        }
      }
      FileHandle.standardOutput.write(Data(out.utf8))
    }
  }
}
