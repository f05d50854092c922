import MQTTWire

/// One connection's ACL: its own section of the ``ACLFile`` and the patterns filled in for it,
/// compiled once at CONNECT by ``ACLFile/compiled(user:clientID:)``. The per-message checks walk
/// arrays of ``TopicFilter``s and allocate nothing. Holds the filters of the client's rules
/// (shared with the file where nothing had to be filled in).
public struct ClientACL: Sendable {
  let own: ACLRules
  let patterns: ACLRules

  /// Whether the client may publish to (`write`) or receive (`read`) a message on `topic`: no
  /// deny rule matches it and some rule granting `access` does.
  public func allows(_ access: ACLFile.Access, topic: UnsafeRawBufferPointer) -> Bool {
    if own.denies.contains(where: { $0.matches(topic) }) || patterns.denies.contains(where: { $0.matches(topic) }) {
      return false
    }
    return own.grants(access).contains { $0.matches(topic) } || patterns.grants(access).contains { $0.matches(topic) }
  }

  /// ``allows(_:topic:)`` for a topic as text (tests, tools).
  public func allows(_ access: ACLFile.Access, topic: String) -> Bool {
    var topic = topic
    return topic.withUTF8 { allows(access, topic: UnsafeRawBufferPointer($0)) }
  }

  /// Whether a SUBSCRIBE to `filter` may be granted in the SUBACK: it is a valid filter, no deny
  /// rule covers every topic it can match, and some rule granting `read` overlaps it (one topic
  /// matches both). Looser than "a read rule covers it" on purpose, as mosquitto is: `#` is
  /// granted to a client that may read `a/b`, and the per-message ``allows(_:topic:)`` at
  /// delivery is what keeps it to `a/b`. A `$share/{group}/` prefix is checked by the filter after it.
  public func allowsSubscribe(filter: String) -> Bool {
    guard TopicFilter.problem(filter) == nil else { return false }
    let wanted = TopicFilter(filter)
    if own.denies.contains(where: { $0.covers(wanted) }) || patterns.denies.contains(where: { $0.covers(wanted) }) {
      return false
    }
    return own.reads.contains { $0.overlaps(wanted) } || patterns.reads.contains { $0.overlaps(wanted) }
  }
}
