import ArgumentParser
import Foundation
import Gateway
import PartitionedLog
import WeirTools

struct BenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench", abstract: "Measure Weir beside its ceilings; the last line printed is JSON.",
    subcommands: [
      LogBench.self, RecoveryBench.self, UplinkBench.self, RulesBench.self, IngestBench.self, ListenerBench.self,
      PasswordsBench.self,
    ])

  struct PasswordsBench: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "passwords",
      abstract: "Time password checks: PBKDF2 derivations (a first CONNECT) and cached repeats (a reconnect).")

    @Option(help: "PBKDF2 rounds, as a password file line's $7$<iterations>$.")
    var iterations: Int = PasswordTool.defaultIterations
    @Option(help: "Verifications of each kind.")
    var count: Int = 100

    func run() throws {
      print(try PasswordBenchmark.run(iterations: iterations, count: count))
    }
  }

  struct LogBench: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "log", abstract: "Append and read back records; compare with the disk's sequential write speed.")

    @Option(help: "Directory to benchmark in (a fresh subdirectory is made and removed).")
    var dir: String = "."
    @Option(help: "Records to append.")
    var records: Int = 1_000_000
    @Option(help: "Bytes per record value.")
    var recordBytes: Int = 100
    @Option(help: "Partitions (one appending thread each).")
    var partitions: Int = 1
    @Option(help: "always | interval | never")
    var fsync: FsyncOption = .interval
    @Option(help: "fsync interval in ms for --fsync interval.")
    var fsyncIntervalMs: Int = 50
    @Option(help: "Records per appended batch.")
    var batch: Int = 1000
    @Flag(help: "Keep the benchmark's log directory.")
    var keep = false

    func run() throws {
      let policy = fsync.policy(intervalMs: fsyncIntervalMs)
      let line = try LogBenchmark.run(
        .init(
          directory: dir, records: records, recordBytes: recordBytes, partitions: partitions, fsync: policy,
          batchRecords: batch, keepData: keep)
      ) { progress in
        FileHandle.standardError.write(Data((progress + "\n").utf8))
      }
      print(line)
    }
  }

  struct RecoveryBench: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "recovery", abstract: "Fill a log in a child process, kill -9 it, and time the reopen.")

    @Option(help: "Directory to benchmark in (a fresh subdirectory is made and removed).")
    var dir: String = "."
    @Option(help: "Bytes of log to write before the kill (suffixes: KiB MiB GiB).")
    var size: String = "4GiB"
    @Option(help: "Bytes per record value.")
    var recordBytes: Int = 1000

    func run() throws {
      guard let bytes = parseByteSize(size) else { throw ValidationError("cannot read the size '\(size)'") }
      let line = try RecoveryBenchmark.run(directory: dir, bytes: bytes, recordBytes: recordBytes) { progress in
        FileHandle.standardError.write(Data((progress + "\n").utf8))
      }
      print(line)
    }
  }
}

enum FsyncOption: String, ExpressibleByArgument, CaseIterable {
  case always, interval, never

  func policy(intervalMs: Int) -> FsyncPolicy {
    switch self {
    case .always: .always
    case .interval: .interval(milliseconds: intervalMs, bytes: 4 << 20)
    case .never: .never
    }
  }
}

/// `64MiB`, `4GiB`, `1000`, `10kB`.
func parseByteSize(_ text: String) -> Int64? {
  let units: [(String, Int64)] = [
    ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("TiB", 1 << 40), ("kB", 1000), ("MB", 1_000_000),
    ("GB", 1_000_000_000), ("B", 1),
  ]
  for (suffix, factor) in units where text.hasSuffix(suffix) {
    return Int64(text.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)).map { $0 * factor }
  }
  return Int64(text)
}
