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

  init(
    config: ListenerConfig, eventLoop: any EventLoop, store: LogStore, logger: Logger, clock: any WallClock,
    metrics: ListenerMetrics, status: StatusBox<ListenerStatus>
  ) throws(LogError) {
    self.status = status
    self.config = config
    self.eventLoop = eventLoop
    self.logger = logger
    self.clock = clock
    self.metrics = metrics
    let source = "listener:\(config.name)"
    router = try LogRouter(store: store, source: source, deadLetterTopic: config.deadLetterTopic)
    router.tracksCommittedEnds = true
    decoder = try MQTTMessageDecoder(
      routes: config.allRoutes, maxPayloadBytes: config.maxPayloadBytes, router: router, source: source)
    events = EventWriter(router: router, route: try router.route(config.eventsTopic), listener: config.name)
    committer = SourceCommitter(router: router, logger: logger, source: source) { [metrics, status] paused in
      metrics.backPressured.record(paused ? 1 : 0)
      status.update { $0.backPressured = paused }
    }
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
    metrics.connections.record(connections.count)
    guard let clientID = connection.clientID, byClient[clientID] === connection else { return }
    byClient[clientID] = nil
    if let session = sessions[clientID] {
      let now = Monotonic.milliseconds()
      if session.expirySeconds == 0 {
        sessions[clientID] = nil
      } else {
        session.expiresAtMs = now + Int64(session.expirySeconds) * 1000
      }
    }
    events.disconnected(clientID: clientID, reason: connection.closeReason, now: clock.nowMilliseconds())
    requestCommit()
    publishStatus()
  }

  /// Binds `connection` to `clientID`: takes the session over from a connection holding it (which
  /// is closed, 5.0: with 0x8E), and starts a new session or resumes the one kept.
  /// Returns the session and whether it was resumed.
  func attach(
    _ connection: ListenerConnection, clientID: String, cleanStart: Bool, expirySeconds: UInt32
  ) -> (ListenerSession, present: Bool) {
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
      session.expirySeconds = expiry
      session.expiresAtMs = nil
      return (session, true)
    }
    let session = ListenerSession(clientID: clientID, expirySeconds: expiry)
    sessions[clientID] = session
    return (session, false)
  }

  /// Drops sessions whose expiry passed (run every few seconds).
  func expireSessions() {
    let now = Monotonic.milliseconds()
    for (id, s) in sessions where s.expiresAtMs.map({ $0 <= now }) ?? false { sessions[id] = nil }
    metrics.sessions.record(sessions.count)
  }

  func connected(_ connection: ListenerConnection, clientID: String, version: ProtocolVersion, remote: String) {
    events.connected(clientID: clientID, version: version, remote: remote, now: clock.nowMilliseconds())
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
      nextEpoch += 1
    } else if undurable.isEmpty {
      // Nothing was written: everything tagged so far is as durable as it gets.
      durableEpoch = nextEpoch - 1
    }
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
      undurable.removeFirst()
    }
    if undurable.isEmpty && !commitScheduled && router.pendingRecords == 0 { durableEpoch = nextEpoch - 1 }
    guard !waiting.isEmpty else { return }
    let now = Monotonic.nanoseconds()
    for (id, c) in waiting where c.release(upTo: durableEpoch, nowNs: now) { waiting[id] = nil }
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
  }
}

/// What one client identifier keeps between connections: the QoS 2 packet identifiers received
/// and not yet released (so a resent PUBLISH is not written twice) and when it expires.
final class ListenerSession {
  let clientID: String
  var expirySeconds: UInt32
  /// Monotonic milliseconds after which the session is dropped (nil while connected).
  var expiresAtMs: Int64?
  /// QoS 2 PUBLISHes written whose PUBREL has not come (at most the 65,535 packet ids).
  var awaitingRelease = Set<UInt16>()

  init(clientID: String, expirySeconds: UInt32) {
    self.clientID = clientID
    self.expirySeconds = expirySeconds
  }
}

/// Writes the listener's events (connects, disconnects, wills) into the events topic as JSON,
/// keyed by client identifier, so "device went offline" is data.
final class EventWriter {
  unowned let router: LogRouter
  let route: TopicRoute
  let listener: String
  private let writer = JSONWriter(capacity: 512)
  private let headers = RecordHeaders()

  init(router: LogRouter, route: TopicRoute, listener: String) {
    self.router = router
    self.route = route
    self.listener = listener
  }

  func connected(clientID: String, version: ProtocolVersion, remote: String, now: Int64) {
    write(clientID: clientID, now: now) { w in
      w.add("event", "connected")
      w.add("protocol", version.description)
      w.add("remote", remote)
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
    topic.withUnsafeBytes { headers.add("mqtt.topic", bytes: $0) }
    headers.add("mqtt.qos", String(qos.rawValue))
    headers.add("mqtt.retain", retain ? "true" : "false")
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
