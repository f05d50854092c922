import DequeModule
import Logging
import MQTTWire
import Metrics
import NIOCore
import PartitionedLog
import Payload
import WeirCore

/// The listener's state, all of it on its one event loop: the router every connection appends
/// to, the commits, the acknowledgements waiting for the log to make their records durable, the
/// sessions by client identifier, and the connections.
///
/// **Durable acknowledgement.** A connection appends what it reads to the shared router and asks
/// for a commit; the commit runs once per turn of the event loop (after every ready connection
/// was read), so it is one group commit for all of them. Each commit is an *epoch*: the
/// partitions it wrote and the offset after its last record in each. A PUBACK (PUBREC for QoS 2)
/// waits in its connection's queue, tagged with the epoch its record was committed in, until every
/// partition of that epoch has its high watermark (the log's durable end) at or past that offset:
/// at once under `fsync: always`, after the flush that covers it under `interval`. Acknowledgements
/// leave in the order their PUBLISHes came, as both specifications require.
///
/// `@unchecked Sendable`: everything here is touched only on `eventLoop` (checked in debug builds);
/// other threads reach it only through `eventLoop.execute`.
final class ListenerCore: @unchecked Sendable {
  let config: ListenerConfig
  let eventLoop: any EventLoop
  let router: LogRouter
  let decoder: MQTTMessageDecoder
  let logger: Logger
  let metrics: ListenerMetrics
  let clock: any WallClock
  private var committer: SourceCommitter
  /// The epoch the next commit makes; acknowledgements queued now are tagged with it.
  private(set) var nextEpoch: UInt64 = 1
  /// Epochs committed whose data is not all durable yet, oldest first.
  private var undurable: Deque<(epoch: UInt64, ends: [(partition: Partition, end: Int64)])> = []
  /// Every epoch up to this one is durable.
  private(set) var durableEpoch: UInt64 = 0
  private var commitScheduled = false
  private var scratchEnds: [(partition: Partition, end: Int64)] = []
  /// The log refuses appends (full, `reject_new`): no connection is read until a commit succeeds.
  private(set) var paused = false
  /// Connections with acknowledgements waiting.
  private var waiting: [ObjectIdentifier: ListenerConnection] = [:]
  /// Open connections, and the one holding each client identifier.
  private(set) var connections: [ObjectIdentifier: ListenerConnection] = [:]
  private var byClient: [String: ListenerConnection] = [:]
  /// Sessions by client identifier (those still connected and those waiting out their expiry).
  private(set) var sessions: [String: ListenerSession] = [:]
  /// 5.0 wills waiting out their delay, by client identifier (at most one per session).
  private var pendingWills: [String: (task: Scheduled<Void>, write: () -> Void)] = [:]
  /// The log failed (not merely full): the listener stops and acknowledges nothing more.
  private(set) var failure: LogError?
  var onFailure: ((LogError) -> Void)?
  private let events: EventWriter
  private let status: StatusBox<ListenerStatus>
  private var recordsWritten: Int64 = 0
  let store: LogStore
  /// Sessions with subscriptions, by client identifier (each has a feed).
  var subscribed: [String: ListenerSession] = [:]
  /// One reader per partition served, shared by every feed (``deliver(_:)``).
  var deliveryReaders: [ObjectIdentifier: PartitionReader] = [:]
  /// What one delivery pass encodes, before it is copied into the connection's write.
  let deliveryBuffer = WeirCore.ByteBuffer(capacity: ListenerCore.passBytes + (64 << 10))
  /// The subscription identifiers of one delivery (5.0 allows many; more than 32 matching
  /// filters with identifiers send the first 32).
  var matchedIdentifiers = [UInt32](repeating: 0, count: 32)
  let retained: RetainedStore
  /// The password and ACL files, loaded at start.
  let auth: ListenerAuth
  /// Persisted sessions that ended since the last save: their checkpoints and cursors go.
  private var endedSessions: [String] = []
  /// Cursors of persistent sessions that kept going without subscriptions: they go at the next save.
  var droppedCursors: [String] = []
  /// Shared subscriptions' groups, by shared filter (`$share/{group}/{filter}`).
  var shareGroups: [String: ShareGroup] = [:]
  /// The subscriptions of every session (`weir_listener_subscriptions`), kept as they change.
  private var subscriptionCount = 0
  private var endsSavedMs: Int64 = 0
  private var saveFailing = false
  /// The log ends of the last durable epoch, by partition: every record before them is durable,
  /// so the state saved with them (``saveState(force:)``) has seen it.
  private var durableEnds: [ObjectIdentifier: Int64] = [:]
  /// Connections with PUBCOMPs waiting for the next save, and whether one is scheduled.
  private var awaitingSave: [ObjectIdentifier: ListenerConnection] = [:]
  /// Password derivations running off the loop, and at most how many.
  var passwordChecks = 0
  static let maxPasswordChecks = 64
  private var saveScheduled = false

  init(
    config: ListenerConfig, eventLoop: any EventLoop, store: LogStore, logger: Logger, clock: any WallClock,
    metrics: ListenerMetrics, status: StatusBox<ListenerStatus>, auth: ListenerAuth = ListenerAuth()
  ) throws(LogError) {
    self.status = status
    self.auth = auth
    self.config = config
    self.eventLoop = eventLoop
    self.logger = logger
    self.clock = clock
    self.metrics = metrics
    self.store = store
    let source = "listener:\(config.name)"
    retained = RetainedStore(listener: config.name, limit: config.maxRetained)
    router = try LogRouter(store: store, source: source, deadLetterTopic: config.deadLetterTopic)
    router.tracksCommittedEnds = true
    decoder = try MQTTMessageDecoder(
      routes: config.routes, maxPayloadBytes: config.maxPayloadBytes, router: router, source: source,
      catchAll: config.catchAll)
    events = EventWriter(
      router: router, route: try router.route(config.eventsTopic), listener: config.name, source: source)
    committer = SourceCommitter(router: router, logger: logger, source: source) { [metrics, status] paused in
      metrics.backPressured.record(paused ? 1 : 0)
      status.update { $0.backPressured = paused }
    }
    try retained.load(store: store)
    let releases = try replaySinceLastSave()
    metrics.retained.record(retained.messages.count)
    try restoreSessions(releases)
    // The ends at once: a crash before the first periodic save must find them, or this run's
    // records would not be read back.
    saveState(force: true)
  }

  /// The checkpoint saved with every save: the log ends it covers (those of the last durable
  /// epoch), one `topic<TAB>partition<TAB>offset` line each. Not a cursor: it reads nothing, and
  /// retention must not count it as a reader.
  var endsName: String { "mqtt-listener-ends:\(config.name)" }

  /// Reads what this listener wrote after the last save's ends: retained PUBLISHes go into the
  /// retained map, persistent sessions' QoS 2 packet identifiers are returned by client
  /// identifier (their PUBREL may not have come). A partition the save does not know is read
  /// from its start when a save exists (it was made after it), else not at all (first start).
  private func replaySinceLastSave() throws(LogError) -> [String: Set<UInt16>] {
    let savedEnds = try store.metadata.loadCheckpoint(endsName)
    var ends: [String: Int64] = [:]
    for line in String(decoding: savedEnds ?? [], as: UTF8.self).split(separator: "\n") {
      let f = line.split(separator: "\t")
      if f.count == 3, let offset = Int64(f[2]) { ends["\(f[0])\t\(f[1])"] = offset }
    }
    let source = Array("listener:\(config.name)".utf8)
    var releases: [String: Set<UInt16>] = [:]
    var records = 0
    for name in config.writtenTopics {
      guard let topic = store.topic(name) else { continue }
      for partition in topic.partitions {
        let end = partition.highWatermark
        durableEnds[ObjectIdentifier(partition)] = end
        let start = ends["\(name)\t\(partition.id)"] ?? (savedEnds != nil ? partition.logStartOffset : end)
        let reader = PartitionReader(partition: partition, bufferCapacity: 1 << 20)
        var position = max(start, partition.logStartOffset)
        reading: while position < end {
          switch try reader.readOrSkip(from: position) {
          case .caughtUp: break reading
          case .skip(_, let to, _): position = to
          case .batches(let read):
            read.forEachRecord { record in
              guard record.offset < end else { return }
              let headers = MQTTRecordHeaders(record)
              guard let from = headers.source, from.elementsEqual(source) else { return }
              if retained.apply(headers, payload: record.value) { records += 1 }
              if let id = headers.packetID, let origin = headers.origin {
                releases[String(decoding: origin, as: UTF8.self), default: []].insert(id)
                records += 1
              }
            }
            position = read.nextOffset
          }
        }
      }
    }
    if records > 0 {
      logger.info(
        "listener state recovered from the log",
        metadata: [
          "records": "\(records)", "retained": "\(retained.messages.count)",
          "qos2_clients": "\(releases.count)",
        ])
    }
    return releases
  }

  /// The name of a persistent session's checkpoint and cursor in `weir.db`.
  func persistedName(_ clientID: String) -> String { "mqtt-session:\(config.name):\(clientID)" }

  /// Brings back the persistent sessions with subscriptions saved by the last run, with their
  /// feeds at their saved cursors; drops those whose expiry passed meanwhile.
  private func restoreSessions(_ releases: [String: Set<UInt16>]) throws(LogError) {
    var releases = releases
    let prefix = persistedName("")
    let now = clock.nowMilliseconds()
    var restored = 0
    for (name, state) in try store.metadata.checkpoints(prefix: prefix) {
      let clientID = String(name.dropFirst(prefix.count))
      guard let s = ListenerSession.decodeState(state) else {
        logger.warning(
          "listener: a saved session cannot be read; it is dropped", metadata: ["client_id": "\(clientID)"])
        endedSessions.append(name)
        continue
      }
      // The saved time comes from weir.db, a file: any value, so the arithmetic saturates.
      let since = s.connected ? now : s.savedAtMs
      let elapsed = now.subtractingReportingOverflow(since)
      let leftMs = Int64(s.expirySeconds) * 1000 - (elapsed.overflow ? Int64.max / 2 : max(0, elapsed.partialValue))
      guard leftMs > 0, sessions.count < config.maxSessions else {
        endedSessions.append(name)
        continue
      }
      let session = ListenerSession(clientID: clientID, version: s.version, expirySeconds: s.expirySeconds)
      session.expiresAtMs = Monotonic.milliseconds() + leftMs
      session.subscriptions = s.subscriptions
      subscriptionCount += s.subscriptions.count
      session.saved = true
      for id in s.awaitingRelease { session.awaitingRelease[id] = 0 }
      if let ids = releases.removeValue(forKey: clientID) {
        for id in ids { session.awaitingRelease[id] = 0 }
        session.stateDirty = true
      }
      if s.subscriptions.contains(where: { $0.filter.shareGroup == nil }) {
        session.feed = makeFeed(session, restoring: true)
        subscribed[clientID] = session
      }
      for sub in s.subscriptions where sub.filter.shareGroup != nil { join(session, sub) }
      sessions[clientID] = session
      restored += 1
    }
    // A client whose session was new since the last save: the log says it was persistent (only
    // such records carry the identifiers), so it is kept (as long as any) to hold them until the
    // client is back, and saved with the others.
    for (clientID, ids) in releases where sessions.count < config.maxSessions {
      let session = ListenerSession(
        clientID: clientID, version: .v3_1_1, expirySeconds: config.maxSessionExpirySeconds)
      session.expiresAtMs = Monotonic.milliseconds() + Int64(config.maxSessionExpirySeconds) * 1000
      for id in ids { session.awaitingRelease[id] = 0 }
      sessions[clientID] = session
      restored += 1
    }
    if restored > 0 { logger.info("listener sessions restored", metadata: ["sessions": "\(restored)"]) }
    metrics.sessions.record(sessions.count)
    recordSubscriptionCount()
  }

  /// A feed over every delivery topic: a new one starts at the high watermarks (a subscriber gets
  /// what is published from now on); a restored one at its saved cursor, and what retention
  /// deleted below it meanwhile is counted and logged.
  func makeFeed(_ session: ListenerSession, restoring: Bool, cursorName: String? = nil) -> SessionFeed {
    let name = cursorName ?? (session.expirySeconds > 0 ? persistedName(session.clientID) : nil)
    let consumer = LogConsumer(store: store, name: name, bufferCapacity: 4096)
    for topicName in config.deliveryTopics {
      guard let topic = store.topic(topicName) else { continue }
      consumer.add(topic: topic) { [self] partition in
        guard restoring, let name,
          let saved = store.metadata.cursor(name, topic: topicName, partition: partition.id)
        else { return partition.highWatermark }
        if saved < partition.logStartOffset {
          metrics.skipped("retention", partition.logStartOffset - saved)
          logger.warning(
            "listener: retention deleted records a persistent session had not received",
            metadata: [
              "client_id": "\(session.clientID)", "topic": "\(topicName)", "partition": "\(partition.id)",
              "records": "\(partition.logStartOffset - saved)",
            ])
        }
        return saved
      }
    }
    let feed = SessionFeed(consumer: consumer)
    // A new cursor is saved at the next save; a restored one is in weir.db already.
    feed.moved = !restoring
    return feed
  }

  // MARK: Connections and sessions

  func opened(_ connection: ListenerConnection) {
    connections[ObjectIdentifier(connection)] = connection
    metrics.connections.record(connections.count)
    publishStatus()
  }

  /// Shares the connection count, the clients and the records written with other threads.
  private func publishStatus() {
    let count = connections.count
    let clients = Array(byClient.keys.sorted().prefix(1000))
    let records = recordsWritten
    status.update {
      $0.connections = count
      $0.clients = clients
      $0.records = records
    }
  }

  func closed(_ connection: ListenerConnection) {
    let id = ObjectIdentifier(connection)
    connections[id] = nil
    waiting[id] = nil
    awaitingSave[id] = nil
    metrics.connections.record(connections.count)
    // Shared subscriptions' deliveries it had in flight go again, to whichever member is next.
    for owner in connection.deliveringFeeds where owner.group != nil {
      owner.feed?.rewind()
      scheduleDelivery(owner)
    }
    guard let clientID = connection.clientID, byClient[clientID] === connection else { return }
    byClient[clientID] = nil
    if let session = sessions[clientID] {
      let now = Monotonic.milliseconds()
      session.connection = nil
      session.feed?.rewind()
      if session.expirySeconds == 0 {
        end(session)
      } else {
        session.expiresAtMs = now + Int64(session.expirySeconds) * 1000
        // Saved again now, so its expiry counts from this disconnect after a restart.
        session.stateDirty = true
      }
      metrics.sessions.record(sessions.count)
    }
    events.disconnected(clientID: clientID, reason: connection.closeReason, now: clock.nowMilliseconds())
    requestCommit()
    publishStatus()
  }

  /// Binds `connection` to `clientID`: takes the session over from a connection holding it (which
  /// is closed, 5.0: with 0x8E), and starts a new session or resumes the one kept.
  /// Returns the session and whether it was resumed.
  func attach(
    _ connection: ListenerConnection, clientID: String, version: ProtocolVersion, cleanStart: Bool,
    expirySeconds: UInt32
  ) -> (ListenerSession, present: Bool)? {
    if sessions[clientID] == nil && sessions.count >= config.maxSessions {
      expireSessions()
      guard sessions.count < config.maxSessions else { return nil }
    }
    if let old = byClient[clientID], old !== connection {
      old.takenOver()
      byClient[clientID] = nil
    }
    // A delayed will: the client is back in time. Resuming the session cancels it; a clean start
    // ends the old session, which publishes it now.
    if let pending = pendingWills.removeValue(forKey: clientID) {
      pending.task.cancel()
      if cleanStart { pending.write() }
    }
    byClient[clientID] = connection
    let expiry = min(expirySeconds, config.maxSessionExpirySeconds)
    if !cleanStart, let session = sessions[clientID] {
      // Taken over while connected: what the old connection had in flight goes again to this one.
      if session.connection != nil { session.feed?.rewind() }
      if session.expirySeconds != expiry { session.stateDirty = true }
      session.expirySeconds = expiry
      session.expiresAtMs = nil
      session.version = version
      session.connection = connection
      return (session, true)
    }
    if let old = sessions[clientID] { end(old) }
    let session = ListenerSession(clientID: clientID, version: version, expirySeconds: expiry)
    session.connection = connection
    sessions[clientID] = session
    metrics.sessions.record(sessions.count)
    return (session, false)
  }

  /// A session is over (clean start, expiry, or a connection without expiry ended): its
  /// subscriptions go, and what was saved of it goes at the next save.
  private func end(_ session: ListenerSession) {
    if sessions[session.clientID] === session { sessions[session.clientID] = nil }
    for sub in session.subscriptions where sub.filter.shareGroup != nil { leave(session, filter: sub.filter.text) }
    subscriptionCount -= session.subscriptions.count
    session.subscriptions = []
    dropFeed(session)
    if session.saved { endedSessions.append(persistedName(session.clientID)) }
    session.saved = false
  }

  /// `session` has no subscriptions left (or is over): its feed goes, and its saved cursor goes at
  /// the next save.
  private func dropFeed(_ session: ListenerSession) {
    if subscribed[session.clientID] === session { subscribed[session.clientID] = nil }
    if session.feed != nil && session.saved { droppedCursors.append(persistedName(session.clientID)) }
    session.feed = nil
    recordSubscriptionCount()
  }

  private func recordSubscriptionCount() {
    metrics.subscriptions.record(subscriptionCount)
  }

  /// Drops sessions whose expiry passed (run every few seconds).
  func expireSessions() {
    let now = Monotonic.milliseconds()
    for (_, s) in sessions where s.expiresAtMs.map({ $0 <= now }) ?? false { end(s) }
    metrics.sessions.record(sessions.count)
  }

  func connected(
    _ connection: ListenerConnection, clientID: String, version: ProtocolVersion, remote: String, user: String?
  ) {
    events.connected(
      clientID: clientID, version: version, remote: remote, user: user, tls: connection.secure,
      now: clock.nowMilliseconds())
    requestCommit()
    publishStatus()
  }

  /// Writes a will into the events topic (key: the client identifier; headers: its topic, QoS and retain).
  /// Writes a will now, or after `delaySeconds` (MQTT 5.0's will delay) unless the client connects
  /// again before: a resumed session cancels it, a clean start publishes it at once.
  func publishWill(
    clientID: String, topic: [UInt8], payload: [UInt8], qos: QoS, retain: Bool, delaySeconds: UInt32 = 0
  ) {
    pendingWills.removeValue(forKey: clientID)?.task.cancel()
    let write = { [self] in
      pendingWills[clientID] = nil
      events.will(
        clientID: clientID, topic: topic, payload: payload, qos: qos, retain: retain, now: clock.nowMilliseconds())
      if retain {
        topic.withUnsafeBytes { t in payload.withUnsafeBytes { self.retain(topic: t, payload: $0, qos: qos) } }
      }
      requestCommit()
    }
    guard delaySeconds > 0 else { return write() }
    let task = eventLoop.assumeIsolated().scheduleTask(in: .seconds(Int64(delaySeconds))) { write() }
    pendingWills[clientID] = (task, write)
  }

  // MARK: Commits and durability

  /// Asks for one commit at the end of this turn of the event loop (after every connection that
  /// had data was read).
  func requestCommit() {
    guard !commitScheduled, failure == nil else { return }
    commitScheduled = true
    eventLoop.execute { [self] in commit() }
  }

  private func commit() {
    commitScheduled = false
    guard failure == nil else { return }
    let pending = router.pendingRecords
    do {
      guard try committer.commit() else {
        if !paused {
          paused = true
          for c in connections.values { c.setReading(false) }
        }
        eventLoop.scheduleTask(in: .milliseconds(Int64(committer.retryDelayMs))) { [self] in commit() }
        return
      }
    } catch {
      fail(error)
      return
    }
    if pending > 0 {
      recordsWritten += Int64(pending)
      let records = recordsWritten
      status.update { $0.records = records }
    }
    router.takeCommittedEnds(into: &scratchEnds)
    if !scratchEnds.isEmpty {
      undurable.append((nextEpoch, scratchEnds))
    } else if undurable.isEmpty {
      // Nothing was written (a QoS 2 resend, a PUBREL): what was tagged with this epoch is as
      // durable as what came before it.
      durableEpoch = nextEpoch
    } else {
      undurable.append((nextEpoch, []))
    }
    nextEpoch += 1
    if paused {
      paused = false
      for c in connections.values { c.setReading(true) }
    }
    releaseDurable()
  }

  /// Moves the durable epoch up to the last epoch whose partitions are durable, and sends the
  /// acknowledgements it covers. Called after each commit and whenever a partition's high
  /// watermark moves.
  func releaseDurable() {
    while let first = undurable.first, first.ends.allSatisfy({ $0.partition.highWatermark >= $0.end }) {
      durableEpoch = first.epoch
      for e in first.ends { durableEnds[ObjectIdentifier(e.partition)] = e.end }
      undurable.removeFirst()
    }
    if undurable.isEmpty && !commitScheduled && router.pendingRecords == 0 { durableEpoch = nextEpoch - 1 }
    if !waiting.isEmpty {
      let now = Monotonic.nanoseconds()
      for (id, c) in waiting where c.release(upTo: durableEpoch, nowNs: now) { waiting[id] = nil }
    }
    if !subscribed.isEmpty { deliverAll() }
  }

  /// `connection` has acknowledgements queued.
  func waitsForDurability(_ connection: ListenerConnection) {
    waiting[ObjectIdentifier(connection)] = connection
  }

  private func fail(_ error: LogError) {
    failure = error
    // Acknowledge nothing the log may not hold: drop what is pending and close every connection
    // without sending its queued acknowledgements; clients send the messages again.
    router.discardPending()
    logger.error("log append failed; the listener stops without acknowledging", metadata: ["error": "\(error)"])
    for c in connections.values { c.abort() }
    onFailure?(error)
  }

  /// At shutdown: the wills still waiting out their delay are written (their sessions end with the
  /// listener), one last commit, then the acknowledgements that became durable.
  func drain() {
    for (_, pending) in pendingWills {
      pending.task.cancel()
      pending.write()
    }
    commit()
    if failure == nil { try? router.flush() }
    releaseDurable()
    saveState(force: true)
  }

  // MARK: Subscriptions

  /// A retained PUBLISH (or will) was written: it replaces what `topic` retained.
  func retain(topic: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, qos: QoS) {
    if !retained.set(topic: topic, payload: payload, qos: qos) {
      metrics.retainedDropped.increment()
      if retained.dropped == 1 || retained.dropped % 1000 == 0 {
        logger.warning(
          "listener: a retained message was not retained (max_retained reached)",
          metadata: ["max_retained": "\(config.maxRetained)", "dropped": "\(retained.dropped)"])
      }
    }
  }

  /// Applies a SUBSCRIBE; returns its reason codes, one per filter (granted QoS: 0 or 1).
  func subscribe(_ session: ListenerSession, _ subscribe: Subscribe, version: ProtocolVersion) -> [UInt8] {
    var reasons: [UInt8] = []
    let identifier = UInt32(subscribe.properties.subscriptionIdentifier ?? 0)
    let before = session.subscriptions.count
    subscribe.forEach { bytes, options in
      let refused = version == .v5 ? ReasonCode.unspecifiedError : ReasonCode(0x80)
      guard let text = String(validating: bytes, as: UTF8.self), TopicFilter.problem(text) == nil else {
        reasons.append((version == .v5 ? ReasonCode.topicFilterInvalid : refused).rawValue)
        return
      }
      let filter = TopicFilter(text)
      if let acl = session.connection?.acl, !acl.allowsSubscribe(filter: text) {
        metrics.denied("subscribe")
        reasons.append((version == .v5 ? ReasonCode.notAuthorized : refused).rawValue)
        return
      }
      let existing = session.subscriptions.firstIndex { $0.filter.text == text }
      if existing == nil && session.subscriptions.count >= config.maxSubscriptions {
        reasons.append((version == .v5 ? ReasonCode.quotaExceeded : refused).rawValue)
        return
      }
      var granted = options
      if granted.qos == .exactlyOnce { granted.qos = .atLeastOnce }
      let sub = ListenerSubscription(filter: filter, options: granted, identifier: identifier)
      if let existing { session.subscriptions[existing] = sub } else { session.subscriptions.append(sub) }
      if filter.shareGroup != nil {
        // Served by the group's feed; no retained messages for a shared subscription (5.0
        // section 4.8.2).
        join(session, sub)
        reasons.append(granted.qos.rawValue)
        return
      }
      let feed = session.feed ?? makeFeed(session, restoring: false)
      session.feed = feed
      // Retained messages: always (handling 0), only for a new subscription (1), or never (2).
      if options.retainHandling == 0 || (options.retainHandling == 1 && existing == nil) {
        for (topic, message) in retained.matching(filter) {
          // At most `max_retained` queued per session: a client subscribing again and again
          // without taking them gets the rest skipped, and counted.
          guard feed.retainedQueue.count < config.maxRetained else {
            metrics.skipped("retained_queue", 1)
            continue
          }
          let qos: QoS = granted.qos == .atMostOnce || message.qos == .atMostOnce ? .atMostOnce : .atLeastOnce
          feed.retainedQueue.append((topic, message, qos, identifier == 0 ? [] : [identifier]))
        }
      }
      reasons.append(granted.qos.rawValue)
    }
    if session.feed != nil { subscribed[session.clientID] = session }
    session.stateDirty = true
    subscriptionCount += session.subscriptions.count - before
    recordSubscriptionCount()
    return reasons
  }

  /// Applies an UNSUBSCRIBE; returns its reason codes (5.0: success or no subscription existed).
  func unsubscribe(_ session: ListenerSession, _ unsubscribe: Unsubscribe) -> [UInt8] {
    var reasons: [UInt8] = []
    let before = session.subscriptions.count
    unsubscribe.forEach { bytes in
      let text = String(decoding: bytes, as: UTF8.self)
      if let i = session.subscriptions.firstIndex(where: { $0.filter.text == text }) {
        let removed = session.subscriptions.remove(at: i)
        if removed.filter.shareGroup != nil { leave(session, filter: text) }
        reasons.append(ReasonCode.success.rawValue)
      } else {
        reasons.append(ReasonCode.noSubscriptionExisted.rawValue)
      }
    }
    session.stateDirty = true
    subscriptionCount += session.subscriptions.count - before
    // No feed without (unshared) subscriptions: nothing would read it but it would still be read.
    if !session.subscriptions.contains(where: { $0.filter.shareGroup == nil }) { dropFeed(session) }
    recordSubscriptionCount()
    return reasons
  }

  // MARK: Saving state

  /// Saves what changed in one `weir.db` transaction: persistent sessions (their state when
  /// changed: subscriptions, expiry, the QoS 2 identifiers awaiting release; their cursors when
  /// moved), sessions that ended, retained messages, and the log ends all of it covers (those of
  /// the last durable epoch: what is written after them is read back at start). Runs every
  /// second, soon after a PUBREL of a persistent session, and at shutdown; a failure (a full
  /// disk) is logged and everything is saved again at the next attempt.
  ///
  /// A persistent session's PUBCOMP leaves only after the save that forgot its identifier: until
  /// then the client may not reuse it, so an identifier read back after a crash is never one a
  /// newer message took.
  func saveState(force: Bool = false) {
    var batch = MetadataBatch()
    for name in endedSessions { batch.checkpoints.append((name, nil)) }
    batch.deletedCursors = endedSessions + droppedCursors
    let now = clock.nowMilliseconds()
    var savedSessions: [(session: ListenerSession, later: Bool)] = []
    var ids: [UInt16] = []
    for session in sessions.values where session.expirySeconds > 0 {
      let name = persistedName(session.clientID)
      if session.stateDirty || !session.saved || saveFailing {
        // Only identifiers whose record is durable, so before the ends saved with them; a later
        // one is after those ends, read back at start, and saved next time.
        ids.removeAll(keepingCapacity: true)
        var later = false
        for (id, epoch) in session.awaitingRelease {
          if epoch <= durableEpoch { ids.append(id) } else { later = true }
        }
        ids.sort()
        batch.checkpoints.append(
          (name, session.encodedState(savedAtMs: now, connected: session.connection != nil, awaitingRelease: ids)))
        savedSessions.append((session, later))
      }
      if let feed = session.feed, feed.moved || saveFailing {
        batch.cursors.append((name, feed.commitPositions))
        feed.moved = false
      }
    }
    for group in shareGroups.values {
      guard let feed = group.feedSession.feed, feed.moved || saveFailing else { continue }
      batch.cursors.append((groupCursorName(group.filter), feed.commitPositions))
      feed.moved = false
    }
    retained.save(into: &batch)
    let nowMs = Monotonic.milliseconds()
    if !batch.isEmpty || force || nowMs - endsSavedMs >= 30_000 {
      var text = ""
      for name in config.writtenTopics {
        guard let topic = store.topic(name) else { continue }
        for p in topic.partitions {
          text += "\(name)\t\(p.id)\t\(durableEnds[ObjectIdentifier(p)] ?? p.highWatermark)\n"
        }
      }
      batch.checkpoints.append((endsName, Array(text.utf8)))
      endsSavedMs = nowMs
    }
    metrics.retained.record(retained.messages.count)
    if !batch.isEmpty {
      do {
        try store.metadata.apply(batch, now: now)
        endedSessions.removeAll()
        droppedCursors.removeAll()
        retained.didSave()
        for (s, later) in savedSessions {
          s.saved = true
          s.stateDirty = later
        }
        saveFailing = false
      } catch {
        if !saveFailing {
          logger.warning("listener: cannot save sessions and retained messages", metadata: ["error": "\(error)"])
        }
        saveFailing = true
        return
      }
    }
    for c in awaitingSave.values { c.sendCompletions() }
    awaitingSave.removeAll()
  }

  /// `connection` has PUBCOMPs waiting for the next save: it comes within 20 ms.
  func awaitsSave(_ connection: ListenerConnection) {
    awaitingSave[ObjectIdentifier(connection)] = connection
    guard !saveScheduled else { return }
    saveScheduled = true
    eventLoop.scheduleTask(in: .milliseconds(20)) { [self] in
      saveScheduled = false
      if !awaitingSave.isEmpty { saveState() }
    }
  }
}

/// What one client identifier keeps between connections: the QoS 2 packet identifiers received
/// and not yet released (so a resent PUBLISH is not written twice), when it expires, its
/// subscriptions and its feed.
///
/// `@unchecked Sendable`: like the core, touched only on the listener's event loop.
final class ListenerSession: @unchecked Sendable {
  let clientID: String
  let clientIDBytes: [UInt8]
  var version: ProtocolVersion
  var expirySeconds: UInt32
  /// What it subscribed (at most `max_subscriptions`), and its place in the log.
  var subscriptions: [ListenerSubscription] = []
  var feed: SessionFeed?
  /// The connection holding it now (a group's feed session: the member a pass is for).
  weak var connection: ListenerConnection?
  /// Set on a shared subscription group's feed session only.
  weak var group: ShareGroup?
  var deliveryScheduled = false
  /// Its subscriptions or expiry changed since it was saved.
  var stateDirty = false
  /// `weir.db` has a checkpoint of it.
  var saved = false
  /// Monotonic milliseconds after which the session is dropped (nil while connected).
  var expiresAtMs: Int64?
  /// QoS 2 PUBLISHes written whose PUBREL has not come (at most the 65,535 packet ids), each
  /// with the epoch its record was committed in (0: read back at start, durable).
  var awaitingRelease: [UInt16: UInt64] = [:]

  init(clientID: String, version: ProtocolVersion, expirySeconds: UInt32) {
    self.clientID = clientID
    clientIDBytes = Array(clientID.utf8)
    self.version = version
    self.expirySeconds = expirySeconds
  }
}

/// Writes the listener's events (connects, disconnects, wills) into the events topic as JSON,
/// keyed by client identifier, so "device went offline" is data.
final class EventWriter {
  unowned let router: LogRouter
  let route: TopicRoute
  let listener: String
  let source: String
  private let writer = JSONWriter(capacity: 512)
  private let headers = RecordHeaders()

  init(router: LogRouter, route: TopicRoute, listener: String, source: String) {
    self.router = router
    self.route = route
    self.listener = listener
    self.source = source
  }

  func connected(clientID: String, version: ProtocolVersion, remote: String, user: String?, tls: Bool, now: Int64) {
    write(clientID: clientID, now: now) { w in
      w.add("event", "connected")
      w.add("protocol", version.description)
      w.add("remote", remote)
      if let user { w.add("user", user) }
      if tls { w.add("tls", true) }
    }
  }

  func disconnected(clientID: String, reason: String, now: Int64) {
    write(clientID: clientID, now: now) { w in
      w.add("event", "disconnected")
      w.add("reason", reason)
    }
  }

  func will(clientID: String, topic: [UInt8], payload: [UInt8], qos: QoS, retain: Bool, now: Int64) {
    headers.removeAll()
    headers.add("event", "will")
    topic.withUnsafeBytes { headers.add(MQTTHeader.topic, bytes: $0) }
    headers.add(MQTTHeader.qos, String(qos.rawValue))
    if retain { headers.add(MQTTHeader.retain, "1") }
    headers.add(MQTTHeader.clientID, clientID)
    headers.add(MQTTHeader.source, source)
    headers.add("listener", listener)
    Array(clientID.utf8).withUnsafeBytes { key in
      payload.withUnsafeBytes { value in
        router.append(route, key: key, value: value, timestamp: now, headers: headers)
      }
    }
  }

  private func write(clientID: String, now: Int64, _ body: (JSONWriter) -> Void) {
    writer.reset()
    writer.beginObject()
    writer.add("client_id", clientID)
    writer.add("listener", listener)
    writer.add("ts", now)
    body(writer)
    writer.endObject()
    headers.removeAll()
    headers.add("content-type", "application/json")
    Array(clientID.utf8).withUnsafeBytes { key in
      router.append(route, key: key, value: writer.bytes, timestamp: now, headers: headers)
    }
  }
}

/// A listener's password file and ACL file (either may be absent).
struct ListenerAuth: Sendable {
  var passwords: PasswordFile?
  var acl: ACLFile?
}
