import Foundation

/// One record as the central MQTT subscriber received it (the uplink's JSON envelope).
struct EnvelopeRecord {
  var timestamp: Int64
  var key: String?
  var value: String?
  var headers: [String: String]

  init?(_ line: String) {
    guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
      let timestamp = (object["timestamp"] as? NSNumber)?.int64Value,
      let headers = object["headers"] as? [String: Any]
    else { return nil }
    self.timestamp = timestamp
    key = object["key"] as? String
    value = object["value"] as? String
    self.headers = headers.compactMapValues { $0 as? String }
  }

  var id: String? {
    guard let g = headers["weir.gateway"], let e = headers["weir.epoch"], let t = headers["weir.topic"],
      let p = headers["weir.partition"], let o = headers["weir.offset"]
    else { return nil }
    return "\(g)/\(e)/\(t)/\(p)/\(o)"
  }
}

/// Per local topic/partition, offsets in order of first arrival, and how many were duplicates.
func firstArrivals(_ records: [EnvelopeRecord]) -> (order: [String: [Int64]], duplicates: Int) {
  var seen: Set<String> = []
  var order: [String: [Int64]] = [:]
  var duplicates = 0
  for r in records where r.headers["weir.gap"] == nil {
    guard let id = r.id, let offset = r.headers["weir.offset"].flatMap({ Int64($0) }) else { continue }
    if seen.insert(id).inserted {
      order["\(r.headers["weir.topic"]!)/\(r.headers["weir.partition"]!)", default: []].append(offset)
    } else {
      duplicates += 1
    }
  }
  return (order, duplicates)
}
