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
  }

  /// Runs a pass for `session` at the end of this turn of the loop (once, however often asked).
  func scheduleDelivery(_ session: ListenerSession) {
    guard !session.deliveryScheduled else { return }
    session.deliveryScheduled = true
    eventLoop.execute { [self] in
      session.deliveryScheduled = false
      deliver(session)
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
      if r.qos != .atMostOnce && feed.inflightCount >= window {
        full = true
        break
      }
      feed.retainedQueue.removeFirst()
      let id = r.qos == .atMostOnce ? nil : feed.nextPacketID()
      let mark = out.count
      var topic = r.topic
      topic.withUTF8 { t in
        r.message.payload.withUnsafeBytes { payload in
          Encoder.publish(
            out, version: version, topic: UnsafeRawBufferPointer(t), payload: payload, qos: r.qos, retain: true,
            packetIdentifier: id ?? 0
          ) { p in for i in r.identifiers { p.varint(PropertyID.subscriptionIdentifier, Int(i)) } }
        }
      }
      if out.count - mark > maxPacket {
        out.count = mark
        metrics.skipped("too_large", 1)
        continue
      }
      feed.sent(member: -1, offset: 0, packetID: id)
      metrics.delivered[Int(r.qos.rawValue)].increment()
    }
    var delivered = (0, 0)
    let members = feed.consumer.members
    var m = 0
    while !full && m < members.count && out.count < Self.passBytes {
      let partition = members[m].partition
      var position = feed.consumer.members[m].position
      reading: while position < partition.highWatermark && out.count < Self.passBytes {
        let reader = deliveryReader(partition)
        let read: ConsumerRead
        do {
          read = try reader.readOrSkip(from: position, maxBytes: 64 << 10, limit: partition.highWatermark)
        } catch {
          logger.warning(
            "listener: a subscriber's feed cannot read the log",
            metadata: ["client_id": "\(session.clientID)", "topic": "\(members[m].topic)", "error": "\(error)"])
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
              "client_id": "\(session.clientID)", "topic": "\(members[m].topic)",
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
              switch encode(record, member: m, session: session, feed: feed, version: version, window: window) {
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
    if out.count > 0 { connection.sendDeliveries(out) }
    // Stopped by the pass's size, not by the window or the socket: go on after others had a turn.
    if !full && out.count >= Self.passBytes { scheduleDelivery(session) }
  }

  enum Encoded {
    case sent(QoS)
    case skipped
    case windowFull
  }

  /// Encodes `record` as a PUBLISH to `session` if one of its subscriptions matches.
  private func encode(
    _ record: RecordView, member: Int, session: ListenerSession, feed: SessionFeed, version: ProtocolVersion,
    window: Int
  ) -> Encoded {
    guard let topic = record.header("mqtt.topic") else { return .skipped }
    var granted: QoS?
    var retainAsPublished = false
    var identifiers = 0
    let origin = record.header("mqtt.client_id")
    for (i, sub) in session.subscriptions.enumerated() where sub.filter.matches(topic) {
      if sub.options.noLocal, let origin, origin.elementsEqual(session.clientIDBytes) { continue }
      if granted.map({ sub.options.qos.rawValue > $0.rawValue }) ?? true { granted = sub.options.qos }
      retainAsPublished = retainAsPublished || sub.options.retainAsPublished
      if sub.identifier != 0 && identifiers < matchedIdentifiers.count {
        matchedIdentifiers[identifiers] = (i, sub.identifier)
        identifiers += 1
      }
    }
    guard let granted else { return .skipped }
    if let acl = session.connection?.acl, !acl.allows(.read, topic: topic) { return .skipped }
    let published = record.publishedQoS
    // Subscriptions are granted QoS 1 at most: what a subscriber gets is min(granted, published).
    let qos: QoS = granted == .atMostOnce || published == .atMostOnce ? .atMostOnce : .atLeastOnce
    let again = record.offset < feed.deliveredEnd[member]
    if again && qos == .atMostOnce { return .skipped }
    if qos != .atMostOnce && feed.inflightCount >= window { return .windowFull }
    let retain = retainAsPublished && record.header("mqtt.retain") != nil
    let id = qos == .atMostOnce ? nil : feed.nextPacketID()
    let out = deliveryBuffer
    let mark = out.count
    let payload = record.value ?? UnsafeRawBufferPointer(start: nil, count: 0)
    Encoder.publish(
      out, version: version, topic: topic, payload: payload, qos: qos, retain: retain, dup: again && id != nil,
      packetIdentifier: id ?? 0
    ) { p in
      for k in 0..<identifiers { p.varint(PropertyID.subscriptionIdentifier, Int(matchedIdentifiers[k].1)) }
    }
    if out.count - mark > (session.connection?.clientMaximumPacket ?? Int.max) {
      out.count = mark
      metrics.skipped("too_large", 1)
      feed.sent(member: member, offset: record.offset, packetID: nil)
      return .skipped
    }
    feed.sent(member: member, offset: record.offset, packetID: id)
    return .sent(qos)
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

extension RecordView {
  /// The QoS it was published with (its `mqtt.qos` header; 0 without one).
  var publishedQoS: QoS {
    header("mqtt.qos").flatMap { $0.first.flatMap { QoS(rawValue: $0 &- UInt8(ascii: "0")) } } ?? .atMostOnce
  }
}
