public import PartitionedLog

/// One record as tests compare it: key, value and headers as text.
public struct StoredRecord: Sendable {
  public var partition: Int32
  public var offset: Int64
  public var key: [UInt8]?
  public var value: [UInt8]
  public var headers: [String: String]

  public var keyText: String { key.map { String(decoding: $0, as: UTF8.self) } ?? "" }
  public var valueText: String { String(decoding: value, as: UTF8.self) }
}

/// Every record of `topic` still in the log, partition by partition in offset order, stepping
/// over what retention deleted or a damaged batch lost.
public func storedRecords(_ topic: Topic) throws -> [StoredRecord] {
  var out: [StoredRecord] = []
  for p in topic.partitions {
    let reader = PartitionReader(partition: p)
    var offset = p.logStartOffset
    reading: while true {
      switch try reader.readOrSkip(from: offset) {
      case .caughtUp: break reading
      case .skip(_, let to, _): offset = to
      case .batches(let r):
        r.forEachRecord { record in
          var headers: [String: String] = [:]
          var it = record.headers
          while let h = it.next() {
            headers[String(decoding: h.key, as: UTF8.self)] = h.value.map { String(decoding: $0, as: UTF8.self) } ?? ""
          }
          out.append(
            StoredRecord(
              partition: p.id, offset: record.offset, key: record.key.map { Array($0) },
              value: record.value.map { Array($0) } ?? [], headers: headers))
        }
        offset = r.nextOffset
      }
    }
  }
  return out
}
