import Foundation
import PartitionedLog
import Testing
import WeirTestSupport

/// The `weir` executable built beside this test bundle.
func weirBinary() -> String {
  URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    .appendingPathComponent("weir").path
}

/// Records in a data directory's topic, read from the files (the writer may be running).
func recordValues(_ dir: String, topic: String = "telemetry") -> [String] {
  var values: [String] = []
  try? SegmentFiles(dataDirectory: dir).forEachBatch(topic: topic, partition: 0, from: 0) { batch in
    var it = batch.records
    while let r = it.next() { values.append(r.value.map { String(decoding: $0, as: UTF8.self) } ?? "") }
    return true
  }
  return values
}

@Suite(.serialized) struct AckAfterCommitTests {
  /// The gateway is killed after the log holds a QoS 1 message but before its PUBACK went out:
  /// the broker delivers it again to the restarted gateway. Had the PUBACK gone out when the
  /// message was read, it would not.
  @Test func killBetweenCommitAndAckGetsTheMessageRedelivered() throws {
    let broker = try MosquittoBroker()
    let dir = TempDir()
    func start(pause: Int) throws -> (Process, Pipe) {
      let p = Process()
      p.executableURL = URL(fileURLWithPath: weirBinary())
      p.arguments = [
        "debug", "mqtt-ingest", "--broker", broker.url, "--dir", dir.path, "--filter", "k/#", "--client-id",
        "weir-kill-test", "--pause-before-ack-ms", "\(pause)",
      ]
      let out = Pipe()
      p.standardOutput = out
      try p.run()
      // Wait for "ready": subscribed with a persistent session.
      var seen = ""
      let deadline = Date().addingTimeInterval(20)
      while !seen.contains("ready") && Date() < deadline && p.isRunning {
        seen += String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
      }
      return (p, out)
    }
    let (first, _) = try start(pause: 5000)
    defer { if first.isRunning { kill(first.processIdentifier, SIGKILL) } }
    let publisher = try TestPublisher(port: broker.port, id: "kill-pub")
    #expect(try publisher.publishAll([("k/1", Array("only-once".utf8))], qos: 1).count == 1)
    #expect(waitFor(10) { recordValues(dir.path) == ["only-once"] }, "the log never got the message")
    // The log holds it; the PUBACK waits 5 s. Kill now.
    kill(first.processIdentifier, SIGKILL)
    first.waitUntilExit()
    #expect(first.terminationReason == .uncaughtSignal)

    let (second, _) = try start(pause: 0)
    defer { if second.isRunning { kill(second.processIdentifier, SIGKILL) } }
    #expect(waitFor(10) { recordValues(dir.path).count == 2 }, "the broker did not deliver the message again")
    #expect(recordValues(dir.path) == ["only-once", "only-once"])
    // Now acknowledged: a third start gets nothing more.
    kill(second.processIdentifier, SIGKILL)
    second.waitUntilExit()
    let (third, _) = try start(pause: 0)
    defer { if third.isRunning { kill(third.processIdentifier, SIGKILL) } }
    usleep(1_000_000)
    #expect(recordValues(dir.path).count == 2)
  }
}
