import CoreMetrics
import DequeModule
import Logging
import MQTTWire
import NIOCore
import NIOPosix
import WeirCore

/// One client connection of the listener: frames and decodes what the client sends (many packets
/// per read; a partial packet waits for the next read), writes PUBLISHes into the log through the
/// core's router, and sends each PUBACK or PUBREC only once the log has the message durably.
///
/// Runs on the listener's event loop, like everything it touches. Memory per connection: the
/// bytes of one partial packet (at most `max_packet`), the queue of unsent acknowledgements (24
/// bytes each; at most the receive maximum for 5.0, that plus one read for 3.1.1), the will (at
/// most `max_packet`), and 5.0 topic aliases (at most ``topicAliasMaximum`` topics of at most
/// `max_packet` each).
final class ListenerConnection: ChannelInboundHandler {
  typealias InboundIn = NIOCore.ByteBuffer
  typealias OutboundOut = NIOCore.ByteBuffer

  /// Topic aliases a 5.0 client may set.
  static let topicAliasMaximum: UInt16 = 64

  /// A persistent session's PUBCOMPs waiting for the next save of its state.
  private var pendingCompletions: [(UInt16, ReasonCode)] = []
  /// An acknowledgement waiting for its epoch to be durable (PUBCOMPs wait behind the others, to
  /// keep the order).
  struct PendingAck {
    var type: PacketType
    var packetIdentifier: UInt16
    var reason: ReasonCode
    var epoch: UInt64
    var receivedNs: Int64
  }

  unowned let core: ListenerCore
  private var context: ChannelHandlerContext?
  private(set) var version: ProtocolVersion?
  private(set) var clientID: String?
  private var session: ListenerSession?
  private var cumulation: NIOCore.ByteBuffer?
  private var pendingAcks = Deque<PendingAck>()
  /// QoS 1 and 2 PUBLISHes received and not yet acknowledged.
  private var inflight = 0
  private var reading = true
  private var closing = false
  /// A CONNECT's password is being derived off the loop: nothing more is read or handled until
  /// the verdict is back (at most one read's bytes wait in ``cumulation``).
  private var authenticating = false
  private var disconnected = false
  private var will: (topic: [UInt8], payload: [UInt8], qos: QoS, retain: Bool, delaySeconds: UInt32)?
  private var aliases: [UInt16: [UInt8]] = [:]
  private var keepAliveNs: Int64 = 0
  private var lastPacketNs: Int64 = 0
  private var keepAliveTask: Scheduled<Void>?
  private var packetCounts = [Int](repeating: 0, count: 16)
  private let scratch = WeirCore.ByteBuffer(capacity: 256)
  private(set) var closeReason = "closed by the client"
  let remote: String
  /// QoS 1 deliveries this client may have unacknowledged: its Receive Maximum (5.0), at most
  /// the listener's `receive_maximum`.
  private(set) var deliveryWindow = 0
  /// The largest packet the client accepts (5.0's Maximum Packet Size; unlimited otherwise).
  private(set) var clientMaximumPacket = Int.max
  /// QoS 1 deliveries in flight on this connection, by packet identifier: the session (or
  /// shared subscription group) whose feed sent each (at most ``deliveryWindow``).
  private(set) var outgoing: [UInt16: ListenerSession] = [:]
  private var lastPacketID: UInt16 = 0

  /// Whether the connection came through the TLS port.
  let secure: Bool
  /// The user name the client is known by: its certificate's common name, or the CONNECT's user
  /// name once its password checked out; nil for an anonymous client.
  private(set) var user: String?
  /// What this client may publish and receive (nil: everything; no ACL file).
  private(set) var acl: ClientACL?

  init(core: ListenerCore, remote: String, secure: Bool = false) {
    self.core = core
    self.remote = remote
    self.secure = secure
  }

  // MARK: Channel events

  func handlerAdded(context: ChannelHandlerContext) {
    self.context = context
    lastPacketNs = Monotonic.nanoseconds()
    core.opened(self)
    // A client has as long as the longest keep-alive to send its CONNECT.
    scheduleKeepAlive(Int64(core.config.maxKeepAliveSeconds) * 1_000_000_000)
  }

  func channelInactive(context: ChannelHandlerContext) {
    keepAliveTask?.cancel()
    if !disconnected, let will, let clientID {
      publishWill(will, clientID: clientID)
    }
    core.closed(self)
    self.context = nil
    pendingAcks.removeAll()
    context.fireChannelInactive()
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    closeReason = "connection error: \(error)"
    if secure && version == nil {
      core.metrics.rejected("tls")
      core.logger.info(
        "listener: a TLS handshake failed", metadata: ["remote": "\(remote)", "error": "\(error)"])
    }
    context.close(promise: nil)
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    guard !closing else { return }
    var incoming = unwrapInboundIn(data)
    if authenticating {
      if var pending = cumulation {
        pending.writeBuffer(&incoming)
        cumulation = pending
      } else {
        cumulation = incoming
      }
      return
    }
    lastPacketNs = Monotonic.nanoseconds()
    // The ingest time of records without an event-time field (a vDSO call, not a syscall).
    core.decoder.now = core.clock.nowMilliseconds()
    if var pending = cumulation {
      cumulation = nil
      pending.writeBuffer(&incoming)
      process(&pending)
    } else {
      process(&incoming)
    }
  }

  func channelWritabilityChanged(context: ChannelHandlerContext) {
    if context.channel.isWritable, let session {
      if session.feed != nil { core.scheduleDelivery(session) }
      core.scheduleGroupDeliveries(session)
    }
    context.fireChannelWritabilityChanged()
  }

  /// A free packet identifier for a QoS 1 delivery from `owner`'s feed (never 0; at most the
  /// delivery window is in flight, far below the 65,535 there are).
  func nextPacketID(for owner: ListenerSession) -> UInt16 {
    repeat {
      lastPacketID = lastPacketID == UInt16.max ? 1 : lastPacketID + 1
    } while outgoing[lastPacketID] != nil
    outgoing[lastPacketID] = owner
    return lastPacketID
  }

  /// A delivery that did not go (too large for the client) gives its identifier back.
  func returnPacketID(_ id: UInt16) { outgoing[id] = nil }

  /// The sessions and groups with deliveries in flight here (when the connection ends).
  var deliveringFeeds: [ListenerSession] {
    var seen = Set<ObjectIdentifier>()
    return outgoing.values.filter { seen.insert(ObjectIdentifier($0)).inserted }
  }

  /// Whether a delivery pass may write now: accepted, open, and the socket keeping up.
  var canDeliver: Bool {
    guard let context, version != nil, !closing else { return false }
    return context.channel.isWritable
  }

  func channelReadComplete(context: ChannelHandlerContext) {
    core.metrics.count(&packetCounts)
    context.flush()
  }

  /// Decodes every whole packet in `buffer`; keeps a partial one for the next read.
  private func process(_ buffer: inout NIOCore.ByteBuffer) {
    let maxPacket = core.config.maxPacketBytes
    let consumed = buffer.withUnsafeReadableBytes { raw -> Int in
      var offset = 0
      while offset < raw.count && !closing && !authenticating {
        let rest = UnsafeRawBufferPointer(rebasing: raw[offset...])
        switch Frame.scan(rest, maxPacket: maxPacket) {
        case .incomplete:
          return offset
        case .tooLarge(let size):
          close(.packetTooLarge, "a packet of \(size) bytes is over max_packet (\(maxPacket))")
          return offset
        case .malformed(let error):
          close(error.reason, "\(error.message)")
          return offset
        case .packet(let header):
          packetCounts[Int(header.type.rawValue)] += 1
          handle(header, UnsafeRawBufferPointer(rebasing: rest[0..<header.packetLength]))
          offset += header.packetLength
        }
      }
      return offset
    }
    buffer.moveReaderIndex(forwardBy: consumed)
    if buffer.readableBytes > 0 && !closing {
      buffer.discardReadBytes()
      cumulation = buffer
    }
  }

  // MARK: Packets

  private func handle(_ header: FixedHeader, _ bytes: UnsafeRawBufferPointer) {
    guard let version else {
      guard header.type == .connect else { return close(.protocolError, "the first packet is not a CONNECT") }
      do throws(WireError) {
        guard case .connect(let connect) = try Packet.decode(header, bytes, version: .v3_1_1) else { return }
        accept(connect, header: header, packet: bytes)
      } catch {
        refuse(error.reason, version: nil, "\(error.message)")
      }
      return
    }
    let packet: Packet
    do throws(WireError) {
      packet = try Packet.decode(header, bytes, version: version)
    } catch {
      return close(error.reason, "\(error.message)")
    }
    switch packet {
    case .publish(let publish): received(publish)
    case .ack(let ack) where ack.type == .pubrel: released(ack.packetIdentifier)
    case .ack(let ack) where ack.type == .puback:
      if let owner = outgoing.removeValue(forKey: ack.packetIdentifier), let feed = owner.feed,
        feed.acknowledged(ack.packetIdentifier, connection: ObjectIdentifier(self))
      {
        // The window was full: whichever feed was held back may go on.
        if outgoing.count + 1 >= deliveryWindow, let session {
          if session.feed != nil { core.scheduleDelivery(session) }
          core.scheduleGroupDeliveries(session)
        }
      }
    case .ack: break  // PUBREC and PUBCOMP: deliveries are QoS 1 at most, so there are none to match
    case .pingreq:
      scratch.removeAll()
      Encoder.pingresp(scratch)
      send(scratch)
    case .subscribe(let subscribe):
      guard let session else { return }
      let reasons = core.subscribe(session, subscribe, version: version)
      scratch.removeAll()
      reasons.withUnsafeBytes {
        Encoder.subAck(scratch, .suback, packetIdentifier: subscribe.packetIdentifier, version: version, reasons: $0)
      }
      send(scratch)
      if session.feed != nil { core.scheduleDelivery(session) }
      core.scheduleGroupDeliveries(session)
    case .unsubscribe(let unsubscribe):
      guard let session else { return }
      scratch.removeAll()
      let reasons = core.unsubscribe(session, unsubscribe)
      reasons.withUnsafeBytes {
        Encoder.subAck(
          scratch, .unsuback, packetIdentifier: unsubscribe.packetIdentifier, version: version, reasons: $0)
      }
      send(scratch)
    case .disconnect(let d) where d.type == .disconnect:
      if d.reason == .disconnectWithWill, let will, let clientID { publishWill(will, clientID: clientID) }
      will = nil
      disconnected = true
      closeReason = "DISCONNECT (\(d.reason))"
      closing = true
      context?.close(promise: nil)
    case .disconnect:
      close(.protocolError, "AUTH without an authentication method")
    case .connect:
      close(.protocolError, "a second CONNECT")
    case .connack, .subAck, .pingresp:
      close(.protocolError, "a packet only a server sends")
    }
  }

  /// `passwordChecked`: the verdict of a derivation made off the loop for this CONNECT (then
  /// `packet` is a copy of it, decoded again); nil the first time.
  private func accept(
    _ connect: Connect, header: FixedHeader, packet: UnsafeRawBufferPointer, passwordChecked: Bool? = nil
  ) {
    let v = connect.version
    if connect.properties.authenticationMethod != nil {
      return refuse(.badAuthenticationMethod, version: v, "extended authentication is not supported")
    }
    // A verified client certificate names the user (its CN); else the password file decides,
    // and a client without a user name is let in only when anonymous access is on.
    if secure, let context, let name = ListenerTLS.clientCommonName(context.channel) {
      user = name
    } else if let passwords = core.auth.passwords, let name = connect.userName {
      let userName = String(decoding: name, as: UTF8.self)
      // No password is a wrong one; a verdict that needs a derivation comes back later.
      var verdict = false
      if let password = connect.password {
        guard let known = passwordChecked ?? passwords.verdictWithoutDerivation(user: userName, password: password)
        else { return checkPassword(passwords, user: userName, password, header: header, packet: packet, version: v) }
        verdict = known
      }
      guard verdict else {
        core.metrics.rejected("auth")
        return refuse(.badUserNameOrPassword, version: v, "wrong user name or password for '\(userName.prefix(64))'")
      }
      user = userName
    } else if !core.config.anonymous {
      core.metrics.rejected("auth")
      return refuse(
        connect.userName == nil ? .notAuthorized : .badUserNameOrPassword, version: v,
        connect.userName == nil
          ? "anonymous access is off: connect with a user name and password or a client certificate"
          : "no password file is configured")
    }
    var id = String(decoding: connect.clientIdentifier, as: UTF8.self)
    var assigned: String?
    if id.isEmpty {
      guard connect.cleanStart || v == .v5 else {
        return refuse(.clientIdentifierNotValid, version: v, "an empty client identifier needs a clean session")
      }
      id = "weir-\(UInt64.random(in: 0...UInt64.max) & 0xFFFF_FFFF_FFFF)"
      assigned = id
    }
    version = v
    clientID = id
    acl = core.auth.acl?.compiled(user: user, clientID: id)
    let expiry: UInt32 =
      v == .v5 ? connect.properties.sessionExpiryInterval ?? 0 : (connect.cleanStart ? 0 : UInt32.max)
    guard
      let (session, present) = core.attach(
        self, clientID: id, version: v, cleanStart: connect.cleanStart, expirySeconds: expiry)
    else {
      return refuse(
        v == .v5 ? .quotaExceeded : .serverUnavailable, version: v,
        "max_sessions (\(core.config.maxSessions)) sessions are kept")
    }
    self.session = session
    deliveryWindow = min(Int(connect.properties.receiveMaximum ?? UInt16.max), core.config.receiveMaximum)
    if let m = connect.properties.maximumPacketSize { clientMaximumPacket = Int(m) }
    if let w = connect.will {
      will = (Array(w.topic), Array(w.payload), w.qos, w.retain, w.properties.willDelayInterval ?? 0)
    }
    let maxKeepAlive = core.config.maxKeepAliveSeconds
    let keepAlive =
      connect.keepAliveSeconds == 0 || connect.keepAliveSeconds > maxKeepAlive
      ? maxKeepAlive : connect.keepAliveSeconds
    keepAliveNs = Int64(keepAlive) * 1_500_000_000
    scheduleKeepAlive(keepAliveNs)
    scratch.removeAll()
    let config = core.config
    Encoder.connack(scratch, version: v, sessionPresent: present, reason: .success) { p in
      p.uint16(PropertyID.receiveMaximum, UInt16(config.receiveMaximum))
      p.uint32(PropertyID.maximumPacketSize, UInt32(config.maxPacketBytes))
      p.uint16(PropertyID.topicAliasMaximum, Self.topicAliasMaximum)
      if config.maxRetained == 0 { p.byte(PropertyID.retainAvailable, 0) }
      if keepAlive != connect.keepAliveSeconds { p.uint16(PropertyID.serverKeepAlive, keepAlive) }
      if let assigned { Array(assigned.utf8).withUnsafeBytes { p.string(PropertyID.assignedClientIdentifier, $0) } }
      if expiry > config.maxSessionExpirySeconds && expiry != UInt32.max {
        p.uint32(PropertyID.sessionExpiryInterval, config.maxSessionExpirySeconds)
      }
    }
    send(scratch)
    core.connected(self, clientID: id, version: v, remote: remote, user: user)
    // A resumed session's deliveries not acknowledged, and its backlog.
    if session.feed != nil { core.scheduleDelivery(session) }
    core.scheduleGroupDeliveries(session)
  }

  private func received(_ publish: Publish) {
    guard let version, let session else { return }
    var alias: [UInt8]?
    if let a = publish.properties.topicAlias {
      guard a <= Self.topicAliasMaximum else {
        return close(.topicAliasInvalid, "topic alias \(a) is over the maximum")
      }
      if publish.topic.isEmpty {
        guard let known = aliases[a] else { return close(.protocolError, "topic alias \(a) was never set") }
        alias = known
      } else if aliases[a].map({ !$0.elementsEqual(publish.topic) }) ?? true {
        // Copied only when the alias changes: a client may repeat topic and alias on every message.
        aliases[a] = Array(publish.topic)
      }
    }
    if publish.qos != .atMostOnce {
      if inflight >= core.config.receiveMaximum && version == .v5 {
        return close(.receiveMaximumExceeded, "more unacknowledged PUBLISHes than the receive maximum")
      }
      inflight += 1
    }
    if let acl, !withTopic(publish, alias, { acl.allows(.write, topic: $0) }) { return denied(publish) }
    if publish.qos == .exactlyOnce, session.awaitingRelease[publish.packetIdentifier] != nil {
      // Sent again before its PUBREC arrived: it is in the log already (durably, or in a commit
      // whose acknowledgement is queued): acknowledge in order, write nothing. Not only with DUP:
      // paho-mqtt sends some again without it. A client may not reuse an identifier before its
      // PUBCOMP, and a persistent session's PUBCOMP waits for the save that forgets it, so an
      // identifier held here (read back after a crash too) is never a newer message's.
      queueAck(.pubrec, publish.packetIdentifier, epoch: pendingAcks.last?.epoch ?? 0)
      core.requestCommit()
      return
    }
    session.clientIDBytes.withUnsafeBytes { origin in
      withTopic(publish, alias) { topic in
        var named = publish
        named.topic = topic
        // A persistent session's QoS 2 record carries its packet identifier, read back after a
        // restart (the session's saved state may not have it yet).
        let exactlyOnce = publish.qos == .exactlyOnce && session.expirySeconds > 0
        core.decoder.handle(named, origin: origin, packetID: exactlyOnce ? publish.packetIdentifier : nil)
        if publish.retain { core.retain(topic: topic, payload: publish.payload, qos: publish.qos) }
      }
    }
    core.requestCommit()
    switch publish.qos {
    case .atMostOnce: break
    case .atLeastOnce: queueAck(.puback, publish.packetIdentifier)
    case .exactlyOnce:
      session.awaitingRelease[publish.packetIdentifier] = core.nextEpoch
      session.stateDirty = true
      queueAck(.pubrec, publish.packetIdentifier)
    }
    if version != .v5 && inflight >= core.config.receiveMaximum { setReading(false) }
  }

  /// Derives `password` on NIO's thread pool, then handles the CONNECT again with the verdict and
  /// goes on with what came after it. At most ``ListenerCore/maxPasswordChecks`` run at once; a
  /// CONNECT beyond that is refused as "server busy", so a flood of wrong passwords costs the
  /// pool's threads, never the event loop every connection shares.
  private func checkPassword(
    _ passwords: PasswordFile, user: String, _ password: UnsafeRawBufferPointer, header: FixedHeader,
    packet: UnsafeRawBufferPointer, version v: ProtocolVersion
  ) {
    guard let context, core.passwordChecks < ListenerCore.maxPasswordChecks else {
      core.metrics.rejected("auth")
      return refuse(
        v == .v5 ? .serverBusy : .serverUnavailable, version: v,
        "\(ListenerCore.maxPasswordChecks) password checks are running already")
    }
    core.passwordChecks += 1
    authenticating = true
    setReading(false)
    let copy = Array(packet)
    let secret = Array(password)
    NIOThreadPool.singleton.runIfActive(eventLoop: context.eventLoop) {
      passwords.verify(user: user, password: secret)
    }.assumeIsolated().whenComplete { [self] result in
      core.passwordChecks -= 1
      authenticating = false
      guard !closing, self.context != nil else { return }
      let ok = (try? result.get()) ?? false
      // The same bytes decoded before: they decode again.
      copy.withUnsafeBytes { raw in
        if case .connect(let connect)? = try? Packet.decode(header, raw, version: .v3_1_1) {
          accept(connect, header: header, packet: raw, passwordChecked: ok)
        }
      }
      if !closing, var pending = cumulation {
        cumulation = nil
        process(&pending)
      }
      // Not in a read: nothing else flushes what the CONNECT's answer and the packets after it wrote.
      self.context?.flush()
      if !closing && inflight < core.config.receiveMaximum && !core.paused { setReading(true) }
    }
  }

  /// Calls `body` with the PUBLISH's topic: the one its 5.0 topic alias stands for, if any.
  private func withTopic<R>(_ publish: Publish, _ alias: [UInt8]?, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    guard let alias else { return body(publish.topic) }
    return alias.withUnsafeBytes(body)
  }

  /// A PUBLISH the ACL does not let this client make: nothing is written. 5.0 gets 0x87 (not
  /// authorized) in its PUBACK or PUBREC; 3.1.1, which has no way to say so, an ordinary
  /// acknowledgement (as mosquitto does), in order with the others.
  private func denied(_ publish: Publish) {
    core.metrics.denied("publish")
    let reason: ReasonCode = version == .v5 ? .notAuthorized : .success
    switch publish.qos {
    case .atMostOnce: return
    case .atLeastOnce: queueAck(.puback, publish.packetIdentifier, reason: reason, epoch: pendingAcks.last?.epoch ?? 0)
    case .exactlyOnce:
      if version != .v5 { session?.awaitingRelease[publish.packetIdentifier] = core.nextEpoch }
      queueAck(.pubrec, publish.packetIdentifier, reason: reason, epoch: pendingAcks.last?.epoch ?? 0)
    }
    core.requestCommit()
  }

  private func released(_ packetIdentifier: UInt16) {
    guard let session else { return }
    let known = session.awaitingRelease.removeValue(forKey: packetIdentifier) != nil
    let reason: ReasonCode = known ? .success : .packetIdentifierNotFound
    guard session.expirySeconds == 0 else {
      // A persistent session's PUBCOMP waits for the save that forgets the identifier (see
      // ListenerCore.saveState): after a crash it must not stand for a newer message.
      session.stateDirty = true
      // More than there are identifiers: the same ones released again and again.
      guard pendingCompletions.count < 65_535 else { return close(.protocolError, "too many PUBRELs") }
      pendingCompletions.append((packetIdentifier, reason))
      core.awaitsSave(self)
      return
    }
    // A PUBCOMP needs nothing from the log; it only keeps its place behind the acknowledgements
    // queued before it.
    queueAck(.pubcomp, packetIdentifier, reason: reason, epoch: pendingAcks.last?.epoch ?? 0)
    core.requestCommit()
  }

  /// Sends the PUBCOMPs waiting for a save (one made now), in one write.
  func sendCompletions() {
    guard let context, let version, !pendingCompletions.isEmpty else { return }
    var out = context.channel.allocator.buffer(capacity: pendingCompletions.count * 4)
    for (id, reason) in pendingCompletions { Self.writeAck(&out, .pubcomp, id, reason: reason, version: version) }
    pendingCompletions.removeAll(keepingCapacity: true)
    context.writeAndFlush(wrapOutboundOut(out), promise: nil)
  }

  /// Writes a PUBACK, PUBREC, PUBREL or PUBCOMP straight into a channel buffer (one write for many):
  /// 2 bytes after the fixed header, 3 with a 5.0 reason code other than success.
  private static func writeAck(
    _ out: inout NIOCore.ByteBuffer, _ type: PacketType, _ id: UInt16, reason: ReasonCode, version: ProtocolVersion
  ) {
    let long = version == .v5 && reason != .success
    out.writeInteger(type.rawValue << 4 | (type == .pubrel ? 0b0010 : 0))
    out.writeInteger(UInt8(long ? 3 : 2))
    out.writeInteger(id)
    if long { out.writeInteger(reason.rawValue) }
  }

  /// Queues an acknowledgement for when epoch `epoch` (by default the next commit's) is durable.
  private func queueAck(
    _ type: PacketType, _ packetIdentifier: UInt16, reason: ReasonCode = .success, epoch: UInt64? = nil
  ) {
    // A connection with acknowledgements queued is already on the core's waiting list (it leaves
    // the list only once its queue is empty).
    if pendingAcks.isEmpty { core.waitsForDurability(self) }
    pendingAcks.append(
      PendingAck(
        type: type, packetIdentifier: packetIdentifier, reason: reason, epoch: epoch ?? core.nextEpoch,
        receivedNs: lastPacketNs))
  }

  /// Sends the acknowledgements whose epoch is durable, in one write; true when none is left.
  func release(upTo epoch: UInt64, nowNs: Int64) -> Bool {
    guard let context, let version else {
      pendingAcks.removeAll()
      return true
    }
    guard let first = pendingAcks.first, first.epoch <= epoch else { return pendingAcks.isEmpty }
    var out = context.channel.allocator.buffer(capacity: min(pendingAcks.count, 4096) * 4)
    var oldestNs: Int64?
    var newestNs: Int64 = 0
    while let ack = pendingAcks.first, ack.epoch <= epoch {
      pendingAcks.removeFirst()
      Self.writeAck(&out, ack.type, ack.packetIdentifier, reason: ack.reason, version: version)
      if ack.type != .pubcomp {
        inflight -= 1
        if oldestNs == nil { oldestNs = ack.receivedNs }
        newestNs = ack.receivedNs
      }
    }
    context.writeAndFlush(wrapOutboundOut(out), promise: nil)
    if let oldestNs {
      core.metrics.ackLatency.recordNanoseconds(nowNs - oldestNs)
      if newestNs != oldestNs { core.metrics.ackLatency.recordNanoseconds(nowNs - newestNs) }
    }
    if !reading && inflight < core.config.receiveMaximum && !core.paused { setReading(true) }
    return pendingAcks.isEmpty
  }

  // MARK: Connection control

  /// Starts or stops reading the socket (back-pressure: TCP holds the client back).
  func setReading(_ on: Bool) {
    guard let context, reading != on else { return }
    reading = on
    context.channel.setOption(ChannelOptions.autoRead, value: on).whenComplete { _ in }
    if on { context.read() }
  }

  /// Another connection took this one's client identifier.
  func takenOver() {
    close(.sessionTakenOver, "another connection took the client identifier over")
  }

  /// Closes without acknowledging anything more (the log failed).
  func abort() {
    pendingAcks.removeAll()
    closeReason = "the log failed"
    closing = true
    context?.close(promise: nil)
  }

  /// Closes the connection: a 5.0 client that was accepted is told why in a DISCONNECT.
  func close(_ reason: ReasonCode, _ message: String) {
    guard !closing, let context else { return }
    closing = true
    closeReason = "\(reason): \(message)"
    core.metrics.rejected(reason.description)
    if version == .v5 {
      scratch.removeAll()
      Encoder.disconnect(scratch, version: .v5, reason: reason)
      var out = context.channel.allocator.buffer(capacity: scratch.count)
      out.writeBytes(scratch.bytes)
      context.writeAndFlush(wrapOutboundOut(out), promise: nil)
      context.close(promise: nil)
    } else {
      context.close(promise: nil)
    }
    core.logger.debug(
      "listener closed a connection",
      metadata: ["client_id": "\(clientID ?? "-")", "remote": "\(remote)", "reason": "\(closeReason)"])
  }

  /// Answers a CONNECT that cannot be accepted with a CONNACK saying why, then closes.
  private func refuse(_ reason: ReasonCode, version: ProtocolVersion?, _ message: String) {
    guard let context else { return }
    closing = true
    closeReason = "refused: \(reason): \(message)"
    core.metrics.rejected(reason.description)
    core.logger.info(
      "listener refused a connection", metadata: ["remote": "\(remote)", "reason": "\(reason)", "detail": "\(message)"])
    guard let version, reason != .protocolError || version == .v5 else {
      // Not MQTT, or a protocol level nobody can answer in its own terms: just close.
      context.close(promise: nil)
      return
    }
    scratch.removeAll()
    Encoder.connack(scratch, version: version, sessionPresent: false, reason: reason)
    var out = context.channel.allocator.buffer(capacity: scratch.count)
    out.writeBytes(scratch.bytes)
    context.writeAndFlush(wrapOutboundOut(out), promise: nil)
    context.close(promise: nil)
  }

  /// Writes `bytes` (flushed at the end of the read pass, or at once with `flush`: a delivery
  /// pass's PUBLISHes).
  func send(_ bytes: WeirCore.ByteBuffer, flush: Bool = false) {
    guard let context else { return }
    var out = context.channel.allocator.buffer(capacity: bytes.count)
    out.writeBytes(bytes.bytes)
    if flush {
      context.writeAndFlush(wrapOutboundOut(out), promise: nil)
    } else {
      context.write(wrapOutboundOut(out), promise: nil)
    }
  }

  private func publishWill(
    _ will: (topic: [UInt8], payload: [UInt8], qos: QoS, retain: Bool, delaySeconds: UInt32), clientID: String
  ) {
    self.will = nil
    // 5.0: published after the will delay (at most the session's expiry) unless the client is back.
    let delay = min(will.delaySeconds, session?.expirySeconds ?? 0)
    core.publishWill(
      clientID: clientID, topic: will.topic, payload: will.payload, qos: will.qos, retain: will.retain,
      delaySeconds: delay)
  }

  private func scheduleKeepAlive(_ afterNs: Int64) {
    keepAliveTask?.cancel()
    guard afterNs > 0, let context else { return }
    keepAliveTask = context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(afterNs)) { [self] in
      let idle = Monotonic.nanoseconds() - lastPacketNs
      let limit = version == nil ? Int64(core.config.maxKeepAliveSeconds) * 1_000_000_000 : keepAliveNs
      if idle >= limit {
        close(version == nil ? .protocolError : .keepAliveTimeout, "nothing received for \(idle / 1_000_000) ms")
      } else {
        scheduleKeepAlive(limit - idle)
      }
    }
  }
}
