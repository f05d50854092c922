public import Payload

/// An alert transition the engine emits: the shared ``AlertRecord`` (Payload), which also reads alerts back.
public typealias AlertEvent = AlertRecord

extension AlertRecord {
  /// `weir/alerts/<rule>/<key>`, with MQTT wildcard and level characters in the key replaced by `_`.
  public var mqttTopic: String {
    let topicKey = String(key.map { "/+#".contains($0) ? "_" : $0 })
    return "weir/alerts/\(rule)/\(topicKey.isEmpty ? "_" : topicKey)"
  }
}
