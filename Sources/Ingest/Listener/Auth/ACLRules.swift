import MQTTWire

/// What one ACL line grants or takes away: mosquitto's access words (`readwrite` when a line
/// names none).
public enum ACLRuleAccess: String, Sendable, CaseIterable {
  case read, write, readwrite, deny
}

/// The compiled rules of one party (a user, the anonymous clients, the patterns), split by what
/// they do so a check walks only the filters that can decide it. Holds one ``TopicFilter`` a
/// rule, in file order; `readwrite` rules stand in both ``reads`` and ``writes``.
struct ACLRules: Sendable {
  var denies: [TopicFilter] = []
  var reads: [TopicFilter] = []
  var writes: [TopicFilter] = []

  mutating func add(_ access: ACLRuleAccess, _ filter: TopicFilter) {
    switch access {
    case .deny: denies.append(filter)
    case .read: reads.append(filter)
    case .write: writes.append(filter)
    case .readwrite:
      reads.append(filter)
      writes.append(filter)
    }
  }

  mutating func add(_ other: ACLRules) {
    denies += other.denies
    reads += other.reads
    writes += other.writes
  }

  var isEmpty: Bool { denies.isEmpty && reads.isEmpty && writes.isEmpty }

  /// The filters that grant `access`.
  func grants(_ access: ACLFile.Access) -> [TopicFilter] { access == .read ? reads : writes }
}
