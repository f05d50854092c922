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
/// same transaction as the log ends it covers (the listener's ends checkpoint, see
/// ``ListenerCore``). At start the saved map is loaded and the log is read from those ends on for
/// the retained records written after the last save, so neither `kill -9` nor power loss loses an
/// acknowledged retained message.
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
  private(set) var messages: [String: Message] = [:]
  /// Changes since the last save (nil: deleted).
  private var changed: [String: Message?] = [:]
  /// Retained PUBLISHes on a new topic refused because `limit` was reached.
  private(set) var dropped = 0

  init(listener: String, limit: Int) {
    self.limit = limit
    prefix = "mqtt-retained:\(listener):"
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

  /// Adds the changes since the last save to `batch` (saved with the log ends they cover, see
  /// ``ListenerCore/saveState(force:)``).
  func save(into batch: inout MetadataBatch) {
    for (topic, message) in changed {
      batch.checkpoints.append((prefix + topic, message.map { [$0.qos.rawValue] + $0.payload }))
    }
  }

  /// The batch ``save(into:)`` filled is in `weir.db` (until then the changes are kept, so
  /// a failed save is made again).
  func didSave() { changed.removeAll() }

  /// Loads the saved map; the records written after its save are applied by the core's replay
  /// (``apply(_:payload:)``).
  func load(store: LogStore) throws(LogError) {
    for (name, state) in try store.metadata.checkpoints(prefix: prefix) {
      guard let first = state.first, let qos = QoS(rawValue: first), state.count > 1 else { continue }
      messages[String(name.dropFirst(prefix.count))] = Message(payload: Array(state.dropFirst()), qos: qos)
    }
  }

  /// A record of this listener read back at start: applied when it is a retained PUBLISH. True when it was.
  func apply(_ headers: MQTTRecordHeaders, payload: UnsafeRawBufferPointer?) -> Bool {
    guard headers.retained, let topic = headers.topic else { return false }
    set(topic: topic, payload: payload ?? UnsafeRawBufferPointer(start: nil, count: 0), qos: headers.qos)
    return true
  }
}
