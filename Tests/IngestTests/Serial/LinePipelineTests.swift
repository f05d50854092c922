import Foundation
import Testing

@testable import Ingest
@testable import PartitionedLog

/// The framer and pipeline without a port: bytes in, records and dead letters out.
@Suite struct LinePipelineTests {
  /// Feeds `chunks` through a framer into a pipeline and commits.
  static func ingest(
    _ chunks: [[UInt8]], config: LineProtocolConfig,
    port: SerialPortConfig = SerialPortConfig(path: "/dev/null", deviceId: "d"),
    log: SerialTestLog
  ) throws -> LinePipeline {
    let router = try LogRouter(store: log.store, source: "serial:test")
    let route = try router.route(config.topic)
    let pipeline = LinePipeline(config: config, port: port, router: router, route: route)
    let framer = LineFramer(maxLineLength: config.maxLineLength, terminator: config.terminator, readChunk: 64)
    for chunk in chunks {
      var offset = 0
      while offset < chunk.count {
        let space = framer.readSpace
        let n = min(space.count, chunk.count - offset)
        chunk.withUnsafeBytes { space.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<offset + n])) }
        framer.consume(n) { pipeline.handle($0, readTime: 1_000) }
        offset += n
        // A pass that spent its output budget: commit, then frame what it left.
        while framer.hasUnframed {
          try router.commit()
          pipeline.pendingBytes = 0
          framer.frameBuffered { pipeline.handle($0, readTime: 1_000) }
        }
      }
    }
    if let partial = framer.takePartial() { pipeline.handleIncomplete(partial, why: "end of test", readTime: 1_000) }
    try router.commit()
    return pipeline
  }

  @Test func everySplitPointGivesTheSameLines() throws {
    let text = Array("{\"a\":1}\r\n{\"b\":\"x\\ny\"}\n\n{\"c\":[1,2]}\r\n".utf8)
    for split in 0...text.count {
      let log = try SerialTestLog()
      _ = try Self.ingest(
        [Array(text[..<split]), Array(text[split...])], config: LineProtocolConfig(format: .jsonLines), log: log)
      #expect(
        try log.records("telemetry").map(\.value) == [#"{"a":1}"#, #"{"b":"x\ny"}"#, #"{"c":[1,2]}"#],
        "split at \(split)")
    }
  }

  @Test func overLongLinesAreCutAndTheNextLineSurvives() throws {
    let log = try SerialTestLog()
    let long = String(repeating: "x", count: 500)
    let config = LineProtocolConfig(format: .jsonLines, maxLineLength: 32)
    // Longer than the framer's buffer (32 + 1 + 64) and arriving in pieces, then a line just at the limit.
    let atLimit = "{\"k\":\"" + String(repeating: "y", count: 24) + "\"}"
    let chunks = [
      Array("{\"ok\":1}\n{\"big\":\"".utf8), Array(long.utf8), Array("\"}\n".utf8), Array((atLimit + "\n").utf8),
    ]
    let pipeline = try Self.ingest(chunks, config: config, log: log)
    #expect(atLimit.utf8.count == 32)
    #expect(try log.records("telemetry").map(\.value) == [#"{"ok":1}"#, atLimit])
    let dead = try log.records("deadletter")
    #expect(dead.map(\.error) == ["line_too_long: line longer than 32 bytes (first 32 kept)"])
    #expect(dead.first?.value == "{\"big\":\"" + String(repeating: "x", count: 24))
    #expect(pipeline.deadLetterCount == 1)
  }

  @Test func carriageReturnTerminatedLines() throws {
    let log = try SerialTestLog()
    let config = LineProtocolConfig(
      format: .csv, terminator: .cr, columns: [CSVColumn("a", .int), CSVColumn("b", .string)])
    _ = try Self.ingest([Array("1,x\r2,y\r\n3,".utf8), Array("z\r".utf8)], config: config, log: log)
    #expect(
      try log.records("telemetry").map(\.value) == [#"{"a":1,"b":"x"}"#, #"{"a":2,"b":"y"}"#, #"{"a":3,"b":"z"}"#])
  }

  @Test func keyFallsBackToDeviceIdThenNull() throws {
    let log = try SerialTestLog()
    _ = try Self.ingest([Array("{\"a\":1}\n".utf8)], config: LineProtocolConfig(format: .jsonLines), log: log)
    #expect(try log.records("telemetry").first?.key == "d")
    let log2 = try SerialTestLog()
    _ = try Self.ingest(
      [Array("{\"a\":1}\n".utf8)], config: LineProtocolConfig(format: .jsonLines),
      port: SerialPortConfig(path: "/dev/null"),
      log: log2)
    #expect(try log2.records("telemetry").first.map { $0.key == nil } == true)
  }

  @Test func missingTimestampCanFallBackToReadTime() throws {
    let log = try SerialTestLog()
    let config = LineProtocolConfig(
      format: .jsonLines, timestampField: "t", timestampUnit: .seconds, timestampMissing: .readTime)
    _ = try Self.ingest([Array("{\"a\":1}\n{\"t\":1714564800.25}\n{\"t\":null}\n".utf8)], config: config, log: log)
    #expect(try log.records("telemetry").map(\.timestamp) == [1_000, 1_714_564_800_250, 1_000])
  }

  /// How fast decoding and routing go without a port (a debug build); printed for the report.
  @Test func csvDecodeRate() throws {
    let log = try SerialTestLog()
    let config = LineProtocolConfig(
      format: .csv, keyField: "device",
      columns: [
        CSVColumn("seq", .int), CSVColumn("device", .string), CSVColumn("temp", .float), CSVColumn("ok", .bool),
      ])
    var data: [UInt8] = []
    let lines = 100_000
    for i in 0..<lines { data += Array("\(i),motor-\(i % 64),\(20 + i % 30).\(i % 10),true\r\n".utf8) }
    let chunks = stride(from: 0, to: data.count, by: 16_384).map { Array(data[$0..<min($0 + 16_384, data.count)]) }
    let start = Date()
    let pipeline = try Self.ingest(chunks, config: config, log: log)
    let elapsed = Date().timeIntervalSince(start)
    #expect(pipeline.records == lines)
    print(
      String(
        format: "serial decode rate (CSV, no port): %.0f lines/s, %.1f MB/s", Double(lines) / elapsed,
        Double(data.count) / elapsed / 1e6))
  }
}
