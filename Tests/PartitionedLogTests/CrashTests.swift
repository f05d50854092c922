import Foundation
import Testing

@testable import PartitionedLog

/// The `weir` executable built beside this test bundle.
func weirExecutable() -> String {
  let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
  return me.deletingLastPathComponent().appendingPathComponent("weir").path
}

/// Runs `weir` with arguments; returns exit status, stdout and stderr.
func runWeir(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: weirExecutable())
  process.arguments = arguments
  let out = Pipe()
  let err = Pipe()
  process.standardOutput = out
  process.standardError = err
  try process.run()
  let outData = out.fileHandleForReading.readDataToEndOfFile()
  let errData = err.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

@Suite(.serialized) struct CrashTests {
  /// A writer in a child process appends with `fsync: always` and prints every acknowledged
  /// offset; it is killed with SIGKILL at a random moment. Reopening must show every
  /// acknowledged record, a sound log and a higher epoch. Repeated at several random points.
  @Test func killNineNeverLosesAnAcknowledgedRecord() throws {
    let dir = TempDirectory()
    var rng = SystemRandomNumberGenerator()
    var lastEpoch: Int32 = -1
    var previousEnd: [Int64] = [0, 0]
    for round in 0..<5 {
      let process = Process()
      process.executableURL = URL(fileURLWithPath: weirExecutable())
      process.arguments = [
        "debug", "append", "--dir", dir.path, "--partitions", "2", "--fsync", "always", "--batch", "7",
        "--print-acks",
      ]
      let out = Pipe()
      process.standardOutput = out
      try process.run()
      let pid = process.processIdentifier
      defer { if process.isRunning { kill(pid, SIGKILL) } }
      usleep(UInt32.random(in: 150_000...600_000, using: &rng))
      kill(pid, SIGKILL)
      process.waitUntilExit()
      #expect(process.terminationReason == .uncaughtSignal)
      let lines = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n")
      var acked: [Int64] = [-1, -1]
      for line in lines where line.hasPrefix("acked ") {
        let parts = line.split(separator: " ")
        acked[Int(parts[1])!] = max(acked[Int(parts[1])!], Int64(parts[2])!)
      }
      #expect(acked[0] >= 0, "round \(round): the writer acknowledged nothing")

      let store = try LogStore.open(directory: dir.path)
      #expect(store.recoveredFromUncleanStop)
      #expect(store.epoch > lastEpoch)
      lastEpoch = store.epoch
      for id in 0..<2 {
        let p = store.partition("crash", Int32(id))!
        #expect(p.highWatermark > acked[id], "partition \(id): acked \(acked[id]) but log ends at \(p.highWatermark)")
        #expect(p.highWatermark >= previousEnd[id])
        let offsets = try p.readAll(maxBytes: 1 << 20).map(\.0)
        #expect(offsets == Array(0..<p.highWatermark))
        previousEnd[id] = p.highWatermark
      }
      try store.close()
      let summary = try LogVerifier.verify(dataDirectory: dir.path)
      #expect(summary.problems.isEmpty, "\(summary.problems)")
    }
  }
}
