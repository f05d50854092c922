import CoreMetrics
import Logging
import MQTTWire
import NIOCore
import PartitionedLog
import WeirCore

/// Subscriptions, served from the log, on the listener's event loop.
///
/// A subscriber gets a record once it is durable (a feed reads up to the high watermark, like
/// every consumer), so a message a subscriber saw is one the log keeps. Each pass over a session
/// reads its feed's partitions with the listener's shared readers, matches each record's
/// `mqtt.topic` header against the session's filters, and writes the PUBLISHes of the pass in
/// one write: at most ``passBytes`` per pass, and only while the connection is writable and its
/// QoS 1 window has room; what is left waits for the next pass (the next high-watermark move, a
/// PUBACK, or the socket draining).
extension ListenerCore {
  /// The most one pass encodes for one session before the loop serves others.
  static let passBytes = 256 << 10

  /// Runs a pass for every connected session with subscriptions (after the high watermark moved).
  func deliverAll() {
    for session in subscribed.values where session.connection != nil { deliver(session) }
    for group in shareGroups.values { deliver(group) }
  }

  /// Runs a pass for `session` at the end of this turn of the loop (once, however often asked).
  func scheduleDelivery(_ session: ListenerSession) {
    guard !session.deliveryScheduled else { return }
    session.deliveryScheduled = true
    eventLoop.execute { [self] in
      session.deliveryScheduled = false
      if let group = session.group { deliver(group) } else { deliver(session) }
    }
  }

  /// One pass: retained messages queued for new subscriptions, then the log.
  func deliver(_ session: ListenerSession) {
    guard let connection = session.connection, let feed = session.feed, let version = connection.version,
      connection.canDeliver
    else { return }
    let out = deliveryBuffer
    out.removeAll()
    let window = connection.deliveryWindow
    let maxPacket = connection.clientMaximumPacket
    var full = false
    while let r = feed.retainedQueue.first {
      if r.qos != .atMostOnce && connection.outgoing.count >= window {
        full = true
        break
      }
      feed.retainedQueue.removeFirst()
      let id = r.qos == .atMostOnce ? nil : connection.nextPacketID(for: session)
      var topic = r.topic
      let fits = topic.withUTF8 { t in
        r.message.payload.withUnsafeBytes { payload in
          r.identifiers.withUnsafeBufferPointer { ids in
            appendPublish(
              version: version, topic: UnsafeRawBufferPointer(t), payload: payload, qos: r.qos, retain: true,
              dup: false, packetID: id, identifiers: ids, maxPacket: maxPacket)
          }
        }
      }
      guard fits else {
        if let id { connection.returnPacketID(id) }
        continue
      }
      feed.sent(member: -1, offset: 0, packetID: id, connection: ObjectIdentifier(connection))
      metrics.delivered[Int(r.qos.rawValue)].increment()
    }
    var delivered = (0, 0)
    // Indexed, not copied: a copy of the members would be copied again by the first `seek`.
    var m = 0
    while !full && m < feed.consumer.members.count && out.count < Self.passBytes {
      let partition = feed.consumer.members[m].partition
      var position = feed.consumer.members[m].position
      reading: while position < partition.highWatermark && out.count < Self.passBytes {
        let reader = deliveryReader(partition)
        let read: ConsumerRead
        do {
          read = try reader.readOrSkip(from: position, maxBytes: 64 << 10, limit: partition.highWatermark)
        } catch {
          logger.warning(
            "listener: a subscriber's feed cannot read the log",
            metadata: [
              "client_id": "\(session.clientID)", "topic": "\(feed.consumer.members[m].topic)", "error": "\(error)",
            ])
          break reading
        }
        switch read {
        case .caughtUp:
          break reading
        case .skip(let from, let to, let reason):
          let why = reason.rawValue
          metrics.skipped(why, to - from)
          logger.warning(
            "listener: a subscriber missed records the log no longer has",
            metadata: [
              "client_id": "\(session.clientID)", "topic": "\(feed.consumer.members[m].topic)",
              "partition": "\(partition.id)", "from": "\(from)", "to": "\(to)", "reason": "\(why)",
            ])
          position = to
        case .batches(let result):
          var batches = BatchScanner(result.bytes)
          var stoppedAt: Int64?
          scan: while let batch = batches.next() {
            var records = batch.records
            while let record = records.next() {
              guard record.offset >= position else { continue }
              switch encode(
                record, member: m, session: session, connection: connection, feed: feed, version: version,
                window: window)
              {
              case .sent(let qos):
                if qos == .atMostOnce { delivered.0 += 1 } else { delivered.1 += 1 }
              case .skipped:
                break
              case .windowFull:
                stoppedAt = record.offset
                break scan
              }
            }
          }
          if let stoppedAt {
            position = stoppedAt
            full = true
            break reading
          }
          position = result.nextOffset
        }
      }
      if position != feed.consumer.members[m].position {
        feed.consumer.seek(m, to: position)
        feed.moved = true
      }
      m += 1
    }
    if delivered.0 > 0 { metrics.delivered[0].increment(by: Int64(delivered.0)) }
    if delivered.1 > 0 { metrics.delivered[1].increment(by: Int64(delivered.1)) }
    if out.count > 0 { connection.send(out, flush: true) }
    // Stopped by the pass's size, not by the window or the socket: go on after others had a turn.
    if !full && out.count >= Self.passBytes { scheduleDelivery(session) }
  }

  enum Encoded {
    case sent(QoS)
    case skipped
    case windowFull
  }

  /// Encodes `record` as a PUBLISH to `session` (held by `connection`) if one of its
  /// subscriptions matches.
  private func encode(
    _ record: RecordView, member: Int, session: ListenerSession, connection: ListenerConnection, feed: SessionFeed,
    version: ProtocolVersion, window: Int
  ) -> Encoded {
    let headers = MQTTRecordHeaders(record)
    guard let topic = headers.topic else { return .skipped }
    var granted: QoS?
    var retainAsPublished = false
    var identifiers = 0
    // A member's shared subscriptions are served by their group's feed, not the member's own.
    for sub in session.subscriptions
    where (sub.filter.shareGroup == nil || session.group != nil) && sub.filter.matches(topic) {
      if sub.options.noLocal, let origin = headers.origin, origin.elementsEqual(session.clientIDBytes) { continue }
      if granted.map({ sub.options.qos.rawValue > $0.rawValue }) ?? true { granted = sub.options.qos }
      retainAsPublished = retainAsPublished || sub.options.retainAsPublished
      if sub.identifier != 0 && identifiers < matchedIdentifiers.count {
        matchedIdentifiers[identifiers] = sub.identifier
        identifiers += 1
      }
    }
    guard let granted else { return .skipped }
    if let acl = connection.acl, !acl.allows(.read, topic: topic) { return .skipped }
    // Subscriptions are granted QoS 1 at most: what a subscriber gets is min(granted, published).
    let qos: QoS = granted == .atMostOnce || headers.qos == .atMostOnce ? .atMostOnce : .atLeastOnce
    let again = record.offset < feed.deliveredEnd[member]
    if again && qos == .atMostOnce { return .skipped }
    if qos != .atMostOnce && connection.outgoing.count >= window { return .windowFull }
    let id = qos == .atMostOnce ? nil : connection.nextPacketID(for: session)
    let fits = matchedIdentifiers.withUnsafeBufferPointer { ids in
      appendPublish(
        version: version, topic: topic, payload: record.value ?? UnsafeRawBufferPointer(start: nil, count: 0),
        qos: qos, retain: retainAsPublished && headers.retained, dup: again && id != nil, packetID: id,
        identifiers: UnsafeBufferPointer(rebasing: ids[0..<identifiers]), maxPacket: connection.clientMaximumPacket)
    }
    // Too large for the client: dropped for it, as if delivered (5.0 section 3.1.2.11.4).
    if !fits, let id { connection.returnPacketID(id) }
    feed.sent(
      member: member, offset: record.offset, packetID: fits ? id : nil, connection: ObjectIdentifier(connection))
    return fits ? .sent(qos) : .skipped
  }

  /// Appends a PUBLISH to the pass's buffer; false (and nothing appended, counted as
  /// `too_large`) when it is larger than the client's `maxPacket`.
  private func appendPublish(
    version: ProtocolVersion, topic: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, qos: QoS,
    retain: Bool, dup: Bool, packetID: UInt16?, identifiers: UnsafeBufferPointer<UInt32>, maxPacket: Int
  ) -> Bool {
    let out = deliveryBuffer
    let mark = out.count
    Encoder.publish(
      out, version: version, topic: topic, payload: payload, qos: qos, retain: retain, dup: dup,
      packetIdentifier: packetID ?? 0
    ) { p in for i in identifiers { p.varint(PropertyID.subscriptionIdentifier, Int(i)) } }
    guard out.count - mark > maxPacket else { return true }
    out.count = mark
    metrics.skipped("too_large", 1)
    return false
  }

  /// The shared reader of `partition` for feeds (one per partition, on this loop).
  private func deliveryReader(_ partition: Partition) -> PartitionReader {
    let key = ObjectIdentifier(partition)
    if let reader = deliveryReaders[key] { return reader }
    let reader = PartitionReader(partition: partition, bufferCapacity: 64 << 10)
    deliveryReaders[key] = reader
    return reader
  }
}
