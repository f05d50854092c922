import MQTTWire
import WeirCore

/// The listener's packet decoder on any bytes a client can send: the input is a stream of packets
/// (the first byte picks the protocol version and the size limit), framed and decoded one after
/// another until the first refusal, as a connection reads them. Every packet that decodes is
/// encoded again and decoded a second time, and both decodings must agree (a decoder that misreads
/// its own encoder's output is wrong even where no crash shows it). Filters from SUBSCRIBEs are
/// checked and matched against the PUBLISHes' topics.
/// `@unchecked Sendable`: libFuzzer calls the harness from one thread; the buffer is not shared.
private final class PacketFuzzState: @unchecked Sendable {
  static let shared = PacketFuzzState()
  let out = ByteBuffer(capacity: 1 << 16)
  var filters: [TopicFilter] = []
}

extension FuzzTargets {
  static let mqttPacket: Harness = { data in
    guard let first = data.first else { return }
    let versions: [ProtocolVersion] = [.v3_1_1, .v5, .v3_1]
    var version = versions[Int(first % 3)]
    let maxPacket = first & 0x80 != 0 ? 64 : 1 << 20
    var rest = UnsafeRawBufferPointer(rebasing: data[1...])
    let state = PacketFuzzState.shared
    state.filters.removeAll(keepingCapacity: true)
    var packets = 0
    while !rest.isEmpty && packets < 1000 {
      guard case .packet(let header) = Frame.scan(rest, maxPacket: maxPacket) else { return }
      precondition(header.packetLength <= rest.count && header.packetLength <= maxPacket)
      let packet: Packet
      do throws(WireError) {
        packet = try Packet.decode(header, rest, version: version)
      } catch {
        return
      }
      if case .connect(let c) = packet { version = c.version }
      roundTrip(packet, version: version, state: state)
      rest = UnsafeRawBufferPointer(rebasing: rest[header.packetLength...])
      packets += 1
    }
  }

  private static func roundTrip(_ packet: Packet, version: ProtocolVersion, state: PacketFuzzState) {
    let out = state.out
    out.removeAll()
    switch packet {
    case .publish(let p):
      Encoder.publish(
        out, version: version, topic: p.topic, payload: p.payload, qos: p.qos, retain: p.retain, dup: p.dup,
        packetIdentifier: p.packetIdentifier
      ) { w in
        if let alias = p.properties.topicAlias { w.uint16(PropertyID.topicAlias, alias) }
        p.properties.forEachUserProperty { w.userProperty($0, $1) }
      }
      guard case .publish(let again) = redecode(out, version: version) else { fatalError("PUBLISH did not re-decode") }
      precondition(again.topic.elementsEqual(p.topic) && again.payload.elementsEqual(p.payload))
      precondition(again.qos == p.qos && again.retain == p.retain && again.packetIdentifier == p.packetIdentifier)
      precondition(again.properties.userPropertyCount == p.properties.userPropertyCount)
      for f in state.filters { _ = f.matches(p.topic) }
    case .connect(let c):
      Encoder.connect(
        out, version: c.version, clientIdentifier: c.clientIdentifier, cleanStart: c.cleanStart,
        keepAliveSeconds: c.keepAliveSeconds, userName: c.userName, password: c.password,
        will: c.will.map { ($0.topic, $0.payload, $0.qos, $0.retain) })
      guard case .connect(let again) = redecode(out, version: version) else { fatalError("CONNECT did not re-decode") }
      precondition(again.clientIdentifier.elementsEqual(c.clientIdentifier) && again.version == c.version)
      precondition(again.keepAliveSeconds == c.keepAliveSeconds && (again.will == nil) == (c.will == nil))
      precondition(again.password.map { Array($0) } == c.password.map { Array($0) })
    case .subscribe(let s):
      var filters: [(filter: UnsafeRawBufferPointer, options: SubscriptionOptions)] = []
      s.forEach { filters.append(($0, $1)) }
      precondition(filters.count == s.count)
      Encoder.subscribe(
        out, version: version, packetIdentifier: s.packetIdentifier, filters: filters,
        subscriptionIdentifier: s.properties.subscriptionIdentifier)
      guard case .subscribe(let again) = redecode(out, version: version) else {
        fatalError("SUBSCRIBE did not re-decode")
      }
      precondition(again.count == s.count && again.packetIdentifier == s.packetIdentifier)
      for (filter, _) in filters where state.filters.count < 64 {
        let text = String(decoding: filter, as: UTF8.self)
        if TopicFilter.problem(text) == nil { state.filters.append(TopicFilter(text)) }
      }
    case .unsubscribe(let u):
      var filters: [UnsafeRawBufferPointer] = []
      u.forEach { filters.append($0) }
      Encoder.unsubscribe(out, version: version, packetIdentifier: u.packetIdentifier, filters: filters)
      guard case .unsubscribe(let again) = redecode(out, version: version) else {
        fatalError("UNSUBSCRIBE did not re-decode")
      }
      precondition(again.count == u.count)
    case .ack(let a):
      Encoder.ack(out, a.type, packetIdentifier: a.packetIdentifier, version: version, reason: a.reason)
      guard case .ack(let again) = redecode(out, version: version) else { fatalError("ack did not re-decode") }
      precondition(again.packetIdentifier == a.packetIdentifier && again.type == a.type)
      precondition(!version.hasProperties || again.reason == a.reason)
    case .disconnect(let d) where d.type == .disconnect:
      Encoder.disconnect(out, version: version, reason: d.reason)
      guard case .disconnect(let again) = redecode(out, version: version) else {
        fatalError("DISCONNECT did not re-decode")
      }
      precondition(!version.hasProperties || again.reason == d.reason)
    default:
      break
    }
  }

  private static func redecode(_ out: ByteBuffer, version: ProtocolVersion) -> Packet? {
    let bytes = out.bytes
    guard case .packet(let header) = Frame.scan(bytes, maxPacket: Int.max), header.packetLength == bytes.count else {
      fatalError("the encoder wrote something the framer does not read back whole")
    }
    do throws(WireError) {
      return try Packet.decode(header, bytes, version: version)
    } catch {
      fatalError("the encoder's own output does not decode: \(error)")
    }
  }
}
