import Foundation
import Testing

@testable import PartitionedLog

/// A fresh directory under /tmp, removed when the test ends.
final class TempDirectory {
  let path: String

  init(_ name: String = "weir-test") {
    path = NSTemporaryDirectory() + "\(name)-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }

  deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// A record as tests write and compare it.
struct TestRecord: Equatable, CustomStringConvertible {
  var timestamp: Int64
  var key: [UInt8]?
  var value: [UInt8]?
  var headers: [Pair] = []

  struct Pair: Equatable {
    var key: String
    var value: [UInt8]?
  }

  var description: String { "ts=\(timestamp) key=\(key.map { String(decoding: $0, as: UTF8.self) } ?? "nil")" }

  init(timestamp: Int64, key: [UInt8]?, value: [UInt8]?, headers: [(String, [UInt8]?)] = []) {
    self.timestamp = timestamp
    self.key = key
    self.value = value
    self.headers = headers.map { Pair(key: $0.0, value: $0.1) }
  }

  init(_ view: RecordView) {
    timestamp = view.timestamp
    key = view.key.map { Array($0) }
    value = view.value.map { Array($0) }
    var it = view.headers
    while let h = it.next() {
      headers.append(Pair(key: String(decoding: h.key, as: UTF8.self), value: h.value.map { Array($0) }))
    }
  }

  /// About now, so the default 7-day age retention keeps test records.
  static let recent = Int64(Date().timeIntervalSince1970 * 1000) / 1000 * 1000

  static func sample(_ i: Int, baseTimestamp: Int64 = recent) -> TestRecord {
    let key = Array("device-\(i % 17)".utf8)
    let value = Array("{\"seq\":\(i),\"vibration\":\(Double(i % 100) / 10),\"pad\":\"\(String(repeating: "x", count: i % 50))\"}".utf8)
    return TestRecord(
      timestamp: baseTimestamp + Int64(i) * 10, key: key, value: value,
      headers: i % 3 == 0 ? [("mqtt.topic", Array("sensors/\(i % 17)".utf8))] : [])
  }
}

extension RecordBatchBuilder {
  func append(_ r: TestRecord) {
    append(timestamp: r.timestamp, key: r.key, value: r.value, headers: r.headers.map { ($0.key, $0.value) })
  }
}

extension Partition {
  /// Appends records in batches of `batchSize`; returns the result of each append.
  @discardableResult
  func appendAll(_ records: [TestRecord], batchSize: Int = 10) throws -> [AppendResult] {
    let builder = RecordBatchBuilder()
    var results: [AppendResult] = []
    var i = 0
    while i < records.count {
      builder.reset()
      for r in records[i..<min(i + batchSize, records.count)] { builder.append(r) }
      results.append(try append(builder))
      i += batchSize
    }
    return results
  }

  /// Reads every durable record from `offset` on.
  func readAll(from offset: Int64 = 0, maxBytes: Int = 4096) throws -> [(Int64, TestRecord)] {
    let reader = PartitionReader(partition: self)
    var out: [(Int64, TestRecord)] = []
    var next = offset
    while true {
      let result = try reader.read(from: next, maxBytes: maxBytes)
      if result.isEmpty { break }
      result.forEachRecord { out.append(($0.offset, TestRecord($0))) }
      #expect(result.nextOffset > next)
      next = result.nextOffset
    }
    return out
  }
}

/// Bytes of a file.
func fileBytes(_ path: String) -> [UInt8] {
  Array(FileManager.default.contents(atPath: path) ?? Data())
}

func writeFile(_ path: String, _ bytes: [UInt8]) {
  _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
}
