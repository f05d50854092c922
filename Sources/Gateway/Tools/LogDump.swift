public import PartitionedLog
import Payload

/// `weir log dump`: a partition's records as JSON lines, read-only from the segment files.
public enum LogDump {
  /// One record as a JSON object: offset, timestamp, key, value (UTF-8 text, or
  /// `{"base64": ...}`), headers (an object; repeated names keep the last value), and the
  /// batch's epoch.
  public static func line(_ record: RecordView, epoch: Int32) -> String {
    let json = JSONWriter.object()
    json.add("offset", record.offset)
    json.add("timestamp", record.timestamp)
    json.add("key", bytes: record.key)
    json.add("value", bytes: record.value)
    let headers = JSONWriter.object()
    var it = record.headers
    while let h = it.next() {
      headers.add(String(decoding: h.key, as: UTF8.self), bytes: h.value)
    }
    json.add("headers", raw: headers.result)
    json.add("epoch", Int64(epoch))
    return json.result
  }

  /// Prints up to `max` records of a partition from `from` on.
  public static func run(
    dataDirectory: String, topic: String, partition: Int32, from: Int64, max: Int64?, output: (String) -> Void
  ) throws {
    let files = SegmentFiles(dataDirectory: dataDirectory)
    var printed: Int64 = 0
    try files.forEachBatch(topic: topic, partition: partition, from: from) { batch in
      var records = batch.records
      while let record = records.next() {
        guard record.offset >= from else { continue }
        if let max, printed >= max { return false }
        output(line(record, epoch: batch.epoch))
        printed += 1
      }
      return true
    }
  }
}
