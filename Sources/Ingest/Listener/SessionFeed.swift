import DequeModule
import MQTTWire
import PartitionedLog

/// A session's place in the log: what its subscriptions get is read from the log topics the
/// listener serves (``ListenerConfig/deliveryTopics``), not copied into a queue. A persistent
/// session's feed is a named consumer whose cursor is saved with the session, so a subscriber
/// that was away gets its backlog from the log (bounded by retention; what retention deleted
/// first is counted and logged, never skipped silently).
///
/// QoS 1 deliveries wait for their PUBACK: the cursor is saved at the first unacknowledged
/// offset of each partition, and a connection that ends rewinds to it, so the next connection of
/// the session gets them again (with DUP set), as both specifications require.
///
/// A shared subscription's group has one feed too (``ShareGroup``), read for whichever member
/// is next: its deliveries in flight are those of several connections, each with its own packet
/// identifiers, so they are kept by connection and identifier.
///
/// Memory: one `LogConsumer` member per partition served (no read buffer of its own: the
/// listener's readers are shared), and at most the delivery window of packet identifiers in
/// flight per connection it delivers to.
final class SessionFeed {
  let consumer: LogConsumer
  /// Per member: the offset after the last record sent. Below it after a rewind, a QoS 1
  /// delivery goes again with DUP and a QoS 0 one not at all.
  private(set) var deliveredEnd: [Int64] = []
  /// Per member: offsets of QoS 1 deliveries not acknowledged yet, oldest first.
  private var unacked: [Deque<Int64>] = []
  /// Each QoS 1 delivery in flight, by connection and packet identifier: its member (-1 for a
  /// retained message, which is not from the log) and offset.
  private var inflight: [PacketKey: (member: Int, offset: Int64)] = [:]

  struct PacketKey: Hashable {
    var connection: ObjectIdentifier
    var packetID: UInt16
  }
  /// Retained messages for new subscriptions, sent before the log's records.
  var retainedQueue = Deque<(topic: String, message: RetainedStore.Message, qos: QoS, identifiers: [UInt32])>()
  /// The positions moved since the cursor was last saved.
  var moved = false

  init(consumer: LogConsumer) {
    self.consumer = consumer
    grow()
  }

  /// Call after adding members to ``consumer``.
  func grow() {
    while deliveredEnd.count < consumer.members.count {
      deliveredEnd.append(consumer.members[deliveredEnd.count].position)
      unacked.append([])
    }
  }

  /// A record of member `member` was sent to `connection`: `offset` at QoS 1 with `packetID`
  /// (the connection's: ``ListenerConnection/nextPacketID(for:)``), or at QoS 0.
  func sent(member: Int, offset: Int64, packetID: UInt16?, connection: ObjectIdentifier) {
    if let packetID {
      inflight[PacketKey(connection: connection, packetID: packetID)] = (member, offset)
      if member >= 0 { unacked[member].append(offset) }
    }
    if member >= 0 { deliveredEnd[member] = max(deliveredEnd[member], offset + 1) }
  }

  /// `connection` got a PUBACK for `packetID`; false when nothing was in flight under it.
  func acknowledged(_ packetID: UInt16, connection: ObjectIdentifier) -> Bool {
    guard let (member, offset) = inflight.removeValue(forKey: PacketKey(connection: connection, packetID: packetID))
    else { return false }
    if member >= 0, let i = unacked[member].firstIndex(of: offset) {
      unacked[member].remove(at: i)
      moved = true
    }
    return true
  }

  /// Where the cursor may stand, as `weir.db` saves it: per member, the first unacknowledged
  /// offset, else the position.
  var commitPositions: [(topic: String, partition: Int32, offset: Int64)] {
    consumer.members.indices.map {
      (
        consumer.members[$0].topic, consumer.members[$0].partition.id,
        unacked[$0].first ?? consumer.members[$0].position
      )
    }
  }

  /// The connection ended: deliveries not acknowledged are sent again to the next one (from the
  /// log, with DUP), and the retained messages not sent are dropped with the connection.
  func rewind() {
    for m in consumer.members.indices {
      if let first = unacked[m].first { consumer.seek(m, to: first) }
      unacked[m].removeAll()
    }
    inflight.removeAll()
    retainedQueue.removeAll()
  }
}
