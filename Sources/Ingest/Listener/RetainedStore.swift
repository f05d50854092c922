import Logging
import MQTTWire
import PartitionedLog
import WeirCore

/// The listener's retained messages: the last retained PUBLISH of each MQTT topic (MQTT 5.0
/// section 3.3.1.3), handed to a new subscription whose filter matches.
///
/// **Durable.** Every retained PUBLISH is also an ordinary record in the log (with an
/// `mqtt.retain` header), acknowledged only once durable like any other. The map itself is saved
/// in `weir.db` at most once a second, one checkpoint per topic (a deletion removes it), in the
/// same transaction as the log ends it covers (checkpoint ``endsName``; not a cursor: it reads
/// nothing, and retention must not count it as a reader). At start the saved
/// map is loaded and the log is read from those ends on for the retained records written
/// after the last save, so neither `kill -9` nor power loss loses an acknowledged retained message.
///
/// Memory: at most `limit` messages, each at most the listener's `max_packet`.
final class RetainedStore {
  struct Message {
    var payload: [UInt8]
    var qos: QoS
  }

  let limit: Int
  /// Checkpoint names: this prefix and the MQTT topic.
  let prefix: String
  /// The checkpoint saved with the map: the log ends its last save covered, one
  /// `topic<TAB>partition<TAB>offset` line each.
  let endsName: String
  private let source: [UInt8]
  private(set) var messages: [String: Message] = [:]
  /// Changes since the last save (nil: deleted).
  private var changed: [String: Message?] = [:]
  /// Retained PUBLISHes on a new topic refused because `limit` was reached.
  private(set) var dropped = 0

  init(listener: String, limit: Int) {
    self.limit = limit
    prefix = "mqtt-retained:\(listener):"
    endsName = "mqtt-retained-ends:\(listener)"
    source = Array("listener:\(listener)".utf8)
  }

  var isDirty: Bool { !changed.isEmpty }

  /// Retains `payload` for `topic` (an empty payload deletes what is retained). False when the
  /// topic is new and `limit` messages are kept already.
  @discardableResult
  func set(topic: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, qos: QoS) -> Bool {
    let name = String(decoding: topic, as: UTF8.self)
    if payload.isEmpty {
      if messages.removeValue(forKey: name) != nil { changed[name] = .some(nil) }
      return true
    }
    guard messages[name] != nil || messages.count < limit else {
      dropped += 1
      return false
    }
    let message = Message(payload: Array(payload), qos: qos)
    messages[name] = message
    changed[name] = .some(message)
    return true
  }

  /// The retained messages whose topic `filter` matches (every one is looked at: at most `limit`).
  func matching(_ filter: TopicFilter) -> [(topic: String, message: Message)] {
    messages.compactMap { filter.matches($0.key) ? ($0.key, $0.value) : nil }.sorted { $0.topic < $1.topic }
  }

  /// Adds the changes since the last save to `batch`, and `ends` (the log ends after the
  /// records the changes came from).
  func save(into batch: inout MetadataBatch, ends: [(topic: String, partition: Int32, offset: Int64)]) {
    for (topic, message) in changed {
      batch.checkpoints.append((prefix + topic, message.map { [$0.qos.rawValue] + $0.payload }))
    }
    let text = ends.map { "\($0.topic)\t\($0.partition)\t\($0.offset)\n" }.joined()
    batch.checkpoints.append((endsName, Array(text.utf8)))
  }

  /// The batch ``save(into:ends:)`` filled is in `weir.db` (until then the changes are kept, so
  /// a failed save is made again).
  func didSave() { changed.removeAll() }

  /// Loads the saved map, then reads `topics` from the saved ends on for retained records this
  /// listener wrote after that save. A partition the save does not know is read from its start
  /// when a save exists (it was made after it), else not at all (first start).
  func load(store: LogStore, topics: [String], logger: Logger) throws(LogError) {
    for (name, state) in try store.metadata.checkpoints(prefix: prefix) {
      guard let first = state.first, let qos = QoS(rawValue: first), state.count > 1 else { continue }
      messages[String(name.dropFirst(prefix.count))] = Message(payload: Array(state.dropFirst()), qos: qos)
    }
    let savedEnds = try store.metadata.loadCheckpoint(endsName)
    var ends: [String: Int64] = [:]
    for line in String(decoding: savedEnds ?? [], as: UTF8.self).split(separator: "\n") {
      let f = line.split(separator: "\t")
      if f.count == 3, let offset = Int64(f[2]) { ends["\(f[0])\t\(f[1])"] = offset }
    }
    let saved = savedEnds != nil
    var replayed = 0
    for name in topics {
      guard let topic = store.topic(name) else { continue }
      for partition in topic.partitions {
        let start =
          ends["\(name)\t\(partition.id)"] ?? (saved ? partition.logStartOffset : partition.state.logEndOffset)
        replayed += try replay(partition, from: start)
      }
    }
    changed.removeAll()
    if replayed > 0 {
      logger.info(
        "listener retained messages recovered from the log",
        metadata: ["records": "\(replayed)", "retained": "\(messages.count)"])
    }
  }

  /// Applies the retained records of `partition` from `offset` on; returns how many.
  private func replay(_ partition: Partition, from offset: Int64) throws(LogError) -> Int {
    let reader = PartitionReader(partition: partition, bufferCapacity: 1 << 20)
    var position = max(offset, partition.logStartOffset)
    var count = 0
    while position < partition.highWatermark {
      switch try reader.readOrSkip(from: position) {
      case .caughtUp: return count
      case .skip(_, let to, _): position = to
      case .batches(let read):
        read.forEachRecord { record in
          let headers = MQTTRecordHeaders(record)
          guard headers.retained, let topic = headers.topic, let from = headers.source, from.elementsEqual(source)
          else { return }
          set(topic: topic, payload: record.value ?? UnsafeRawBufferPointer(start: nil, count: 0), qos: headers.qos)
          count += 1
        }
        position = read.nextOffset
      }
    }
    return count
  }
}
