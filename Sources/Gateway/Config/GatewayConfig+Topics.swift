import PartitionedLog
import WeirCore
import Yams

extension GatewayConfig {
  /// `topics:`, a mapping of topic names to `partitions`, `fsync` (`always`, `interval` with
  /// `fsync_interval` and `fsync_bytes`, `never`), `segment_bytes`, `segment_age`, `max_bytes`,
  /// `max_age` (or `forever`), `eviction_priority` and `on_full`.
  static func topics(_ reader: ConfigReader, _ node: Node?) -> [(name: String, config: TopicConfig)] {
    guard var topics = reader.section(node, path: "topics") else { return [] }
    var out: [(name: String, config: TopicConfig)] = []
    for name in topics.entries.keys.sorted() {
      let path = "topics.\(name)"
      guard var t = reader.section(reader.value(&topics, name), path: path) else { continue }
      if let problem = Topic.nameProblem(name) { reader.problem(topics.keyNode(name), path, problem) }
      var c = TopicConfig()
      if let v = reader.int(&t, "partitions", range: 1...10_000) { c.partitions = v }
      let interval = reader.millisecondCount(
        &t, "fsync_interval", range: 1...3_600_000, why: "the log fsyncs at least this often")
      let bytes = reader.byteCount(
        &t, "fsync_bytes", range: 1...(1 << 30), why: "the log fsyncs at least every this many bytes")
      switch reader.string(&t, "fsync") {
      case nil, "interval"?:
        if case .interval(let ms, let b) = c.fsync {
          c.fsync = .interval(milliseconds: interval ?? ms, bytes: bytes ?? b)
        }
      case let mode?:
        switch mode {
        case "always": c.fsync = .always
        case "never": c.fsync = .never
        default:
          reader.problem(t.at("fsync"), path + ".fsync", "expected always, interval or never, got '\(mode.prefix(80))'")
        }
        for key in ["fsync_interval", "fsync_bytes"] where t.entries[key] != nil {
          reader.problem(t.keyNode(key), path + "." + key, "only used with fsync: interval")
        }
      }
      if let v = reader.bytes(
        &t, "segment_bytes", range: 1024...Int64(Int32.max), why: "offsets in the index are 32-bit")
      {
        c.segmentBytes = v
      }
      if let v = reader.milliseconds(&t, "segment_age", range: 1...ConfigValues.maxMilliseconds) { c.segmentMs = v }
      if let v = reader.bytes(&t, "max_bytes", range: 1024...ConfigValues.maxBytes) { c.maxBytes = v }
      if let v = reader.string(&t, "max_age") {
        if v == "forever" {
          c.maxAgeMs = nil
        } else if let ms = reader.milliseconds(
          &t, "max_age", range: 1...ConfigValues.maxMilliseconds, why: "or write forever")
        {
          c.maxAgeMs = ms
        }
      }
      if let v = reader.int(&t, "eviction_priority", range: -1000...1000) { c.evictionPriority = v }
      if let v = reader.choice(&t, "on_full", FullPolicy.self, allowed: [.dropOldest, .rejectNew]) { c.onFull = v }
      reader.report(c.problems(), in: topics.keyNode(name), path: path)
      reader.finish(t)
      out.append((name, c))
    }
    reader.finish(topics)
    return out
  }
}
