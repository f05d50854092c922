import Foundation
import Testing

@testable import PartitionedLog

@Suite struct LogToolsTests {
  func makeLog(_ dir: TempDirectory) throws -> [TestRecord] {
    let store = try LogStore.open(directory: dir.path)
    let p = try store.createTopic("telemetry", config: TopicConfig(partitions: 2, segmentBytes: 8192)).partitions[1]
    var records = (0..<120).map { TestRecord.sample($0) }
    records[5].value = [0xFF, 0xFE, 0x00]  // not UTF-8
    records[6].key = nil
    try p.appendAll(records, batchSize: 4)
    try store.close()
    return records
  }

  @Test func verifyPassesASoundLogAndNamesEachProblem() throws {
    let dir = TempDirectory()
    _ = try makeLog(dir)
    let ok = try runWeir(["log", "verify", dir.path])
    #expect(ok.status == 0, "\(ok.err)")
    #expect(ok.out.isEmpty)
    let log = dir.path + "/log/telemetry-1/" + Segment.fileName(0, ".log")
    var bytes = fileBytes(log)
    bytes[300] ^= 0x08
    writeFile(log, bytes)
    let bad = try runWeir(["log", "verify", dir.path])
    #expect(bad.status == 1)
    let lines = bad.out.split(separator: "\n")
    #expect(lines.count >= 1)
    #expect(lines.first?.hasPrefix("topic=telemetry partition=1 file=00000000000000000000.log offset=") == true)
    #expect(lines.first?.contains("CRC mismatch") == true)
  }

  @Test func dumpPrintsRecordsAsJSONLines() throws {
    let dir = TempDirectory()
    let records = try makeLog(dir)
    let result = try runWeir(["log", "dump", dir.path, "--topic", "telemetry", "--partition", "1", "--from", "3", "--max", "5"])
    #expect(result.status == 0, "\(result.err)")
    let lines = result.out.split(separator: "\n")
    #expect(lines.count == 5)
    let objects = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
    #expect(objects.map { $0["offset"] as? Int } == [3, 4, 5, 6, 7])
    #expect(objects[0]["timestamp"] as? Int64 == records[3].timestamp)
    #expect(objects[0]["value"] as? String == String(decoding: records[3].value!, as: UTF8.self))
    #expect((objects[0]["headers"] as? [String: Any])?["mqtt.topic"] as? String == "sensors/3")
    #expect((objects[2]["value"] as? [String: String])?["base64"] == Data([0xFF, 0xFE, 0x00]).base64EncodedString())
    #expect(objects[3]["key"] is NSNull)
  }

  /// kafka-python, an independent implementation of Kafka's format, reads Weir's segment files.
  @Test func kafkaPythonReadsWeirSegments() throws {
    let dir = TempDirectory()
    let records = try makeLog(dir)
    let script = """
      import sys, json
      from kafka.record.memory_records import MemoryRecords
      data = open(sys.argv[1], 'rb').read()
      recs = MemoryRecords(data)
      out = []
      while recs.has_next():
          batch = recs.next_batch()
          assert batch.validate_crc(), 'crc'
          for r in batch:
              out.append([r.offset, r.timestamp, None if r.key is None else r.key.hex(), None if r.value is None else r.value.hex(), [[k, None if v is None else v.hex()] for k, v in r.headers]])
      print(json.dumps(out))
      """
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    let bases = try SegmentFiles(dataDirectory: dir.path).segmentBases(topic: "telemetry", partition: 1)
    var parsed: [[Any]] = []
    for base in bases {
      process.arguments = ["python3", "-c", script, dir.path + "/log/telemetry-1/" + Segment.fileName(base, ".log")]
      let out = Pipe()
      let p = Process()
      p.executableURL = process.executableURL
      p.arguments = process.arguments
      p.standardOutput = out
      try p.run()
      let data = out.fileHandleForReading.readDataToEndOfFile()
      p.waitUntilExit()
      #expect(p.terminationStatus == 0, "kafka-python failed: is it installed (scripts/bootstrap)?")
      parsed += (try JSONSerialization.jsonObject(with: data) as? [[Any]]) ?? []
    }
    #expect(parsed.count == records.count)
    func hex(_ b: [UInt8]?) -> String? { b.map { $0.map { String(format: "%02x", $0) }.joined() } }
    for (i, row) in parsed.enumerated() {
      #expect(row[0] as? Int == i)
      #expect((row[1] as? NSNumber)?.int64Value == records[i].timestamp)
      #expect(row[2] as? String == hex(records[i].key))
      #expect(row[3] as? String == hex(records[i].value))
      let headers = (row[4] as? [[Any]]) ?? []
      #expect(headers.count == records[i].headers.count)
    }
  }
}
