import Foundation
import PartitionedLog
import Testing
import WeirTestSupport

@testable import Uplink

@Suite(.serialized, .enabled(if: weirIsBuilt, "needs the weir executable")) struct KafkaCrashTests {
  /// A gateway appending and forwarding is killed with SIGKILL mid-flow and started again on the
  /// same data directory: nothing is lost, and every duplicate lies at or after the cursor that
  /// was committed when it died (the un-committed window) and is identified by its headers.
  @Test func killNineMidFlowLosesNothing() async throws {
    let dir = TempDirectory()
    let mock = try RdKafkaMockCluster(brokers: 3)
    try mock.createTopic("edge.telemetry", partitions: 3)
    let arguments = ["debug", "uplink", "--dir", dir.path, "--bootstrap", mock.bootstrapServers, "--records", "40000"]

    // The first run stops appending at 15,000 (a loaded machine may read its output late) and
    // is killed while its uplink is still forwarding.
    let first = try ChildProcess(weirExecutable(), arguments + ["--hold-at", "15000"], mergeErrors: false)
    let reached = try await first.waitForLine(timeout: 60) { $0.hasPrefix("holding") }
    #expect(reached != nil, "the first run did not get going: \(first.lines.suffix(3))")
    try await Task.sleep(nanoseconds: UInt64.random(in: 0...100_000_000))
    first.signal(SIGKILL)
    let (code, reason) = try await first.exitStatus()
    #expect(reason == .uncaughtSignal, "the first run exited (\(code)) before the kill: \(first.lines.suffix(5))")
    let metadata = try MetadataStore(path: dir.path + "/weir.db")
    let committed = (0..<3).map { metadata.cursor("uplink:crash", topic: "telemetry", partition: Int32($0)) ?? 0 }
    #expect(committed.reduce(0, +) > 0, "nothing was committed before the kill")

    let second = try ChildProcess(weirExecutable(), arguments, mergeErrors: false)
    let done = try await second.waitForLine(timeout: 120) { $0.hasPrefix("done") }
    #expect(done != nil, "the second run did not finish: \(second.lines.suffix(3))")
    let (status, _) = try await second.exitStatus()
    #expect(status == 0)

    let store = try LogStore.open(directory: dir.path)
    let ends = (0..<3).map { store.partition("telemetry", Int32($0))!.highWatermark }
    #expect(ends.reduce(0, +) >= 40_000)
    try store.close()
    let records = try await consume(bootstrap: mock.bootstrapServers, topics: ["edge.telemetry"], timeout: 60) {
      firstArrivals($0).order.values.reduce(0) { $0 + $1.count } >= Int(ends.reduce(0, +))
    }
    let (order, duplicates) = firstArrivals(records)
    for p in 0..<3 {
      let got = order["telemetry/\(p)"] ?? []
      #expect(got == Array(0..<ends[p]), "telemetry/\(p): \(summary(got)), expected \(ends[p])")
    }
    for d in duplicates {
      #expect(d.offset >= committed[Int(d.partition)], "duplicate \(d) below the committed cursor \(committed[Int(d.partition)])")
    }
    #expect(Set(records.compactMap { $0.header("weir.epoch") }).count == 2, "records from both runs, in two epochs")
  }
}

@Suite(.serialized, .enabled(if: weirIsBuilt, "needs the weir executable")) struct DevClusterCommandTests {
  /// `weir dev-cluster` runs until SIGTERM, says it is a stand-in and writes the bootstrap file;
  /// `weir dev-cluster consume` prints what arrived as JSON lines with headers.
  @Test func serveAndConsume() async throws {
    let dir = TempDirectory()
    let file = dir.path + "/bootstrap.txt"
    let cluster = try ChildProcess(
      weirExecutable(), ["dev-cluster", "--brokers", "2", "--topics", "edge.telemetry:2,edge.alerts:1", "--bootstrap-file", file], mergeErrors: false)
    let bootstrapLine = try await cluster.waitForLine(timeout: 20) { $0.hasPrefix("bootstrap: ") }
    #expect(cluster.lines.contains { $0.contains("NOT A REAL KAFKA") })
    let bootstrap = try #require(bootstrapLine).dropFirst("bootstrap: ".count)
    try await eventually("the bootstrap file", timeout: 5) { FileManager.default.fileExists(atPath: file) }
    #expect(try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) == bootstrap)

    let store = try openTestStore(dir, topics: ["telemetry": 2])
    try appendKeyed(store, topic: "telemetry", count: 100)
    let uplink = try KafkaUplink(
      config: KafkaUplinkConfig(uplink: kafkaOptions(topics: [UplinkTopic("telemetry")]), bootstrapServers: String(bootstrap)),
      store: store)
    let running = Running(uplink)
    try await eventually("forwarded", timeout: 30) { uplink.snapshot().ackedRecords == 100 }
    try await running.stop()
    try store.close()

    let consumer = try ChildProcess(
      weirExecutable(),
      ["dev-cluster", "consume", "--bootstrap-file", file, "--topic", "edge.telemetry", "--from-beginning", "--max", "100", "--timeout", "20"], mergeErrors: false)
    let (status, _) = try await consumer.exitStatus()
    #expect(status == 0)
    let lines = consumer.lines
    #expect(lines.count == 100)
    let first = try #require(lines.first.flatMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
    #expect(first["topic"] as? String == "edge.telemetry")
    #expect((first["key"] as? String)?.hasPrefix("device-") == true)
    #expect((first["value"] as? String)?.hasPrefix("{\"seq\":") == true)
    let headers = try #require(first["headers"] as? [String: Any])
    #expect(headers["weir.gateway"] as? String == "gw-test")
    #expect(headers["source"] as? String == "test")
    #expect(first["offset"] is NSNumber && first["partition"] is NSNumber && first["timestamp"] is NSNumber)

    cluster.signal(SIGTERM)
    let (code, _) = try await cluster.exitStatus()
    #expect(code == 0)
    #expect(!FileManager.default.fileExists(atPath: file))
  }
}
