import MQTTWire
import WeirCore

/// One topic filter a session subscribed, with its options (5.0 section 3.8.3.1) and its
/// subscription identifier (5.0 section 3.8.2.1.2; 0 for none).
struct ListenerSubscription: Equatable {
  var filter: TopicFilter
  var options: SubscriptionOptions
  var identifier: UInt32
}

extension ListenerSession {
  /// What a persistent session keeps across restarts of `weir run` (with its cursor, under the
  /// same name): the protocol level, the expiry, when it was saved, the subscriptions, and the
  /// QoS 2 packet identifiers whose PUBLISH is durably in the log and whose PUBREL has not come.
  ///
  ///     byte      layout version (2; 1 is read too: it ends after the subscriptions)
  ///     byte      protocol level (3, 4 or 5)
  ///     byte      1 if a client was connected when saved (its expiry then counts from the restart)
  ///     uint32    session expiry interval, seconds
  ///     int64     wall-clock milliseconds when saved
  ///     uint16    subscription count, then per subscription:
  ///       uint16 + bytes   the filter (UTF-8)
  ///       byte             the options byte, as in a 5.0 SUBSCRIBE
  ///       uint32           the subscription identifier (0: none)
  ///     uint16    count of QoS 2 packet identifiers awaiting release, then each as a uint16
  ///
  /// All integers big-endian. `awaitingRelease`: the identifiers to write (those durable by now).
  func encodedState(savedAtMs: Int64, connected: Bool, awaitingRelease: [UInt16]) -> [UInt8] {
    var out: [UInt8] = [2, version.rawValue, connected ? 1 : 0]
    func u16(_ v: UInt16) { out += [UInt8(v >> 8), UInt8(v & 0xFF)] }
    func u32(_ v: UInt32) {
      for s in stride(from: 24, through: 0, by: -8) { out.append(UInt8((v >> UInt32(s)) & 0xFF)) }
    }
    u32(expirySeconds)
    let t = UInt64(bitPattern: savedAtMs)
    for s in stride(from: 56, through: 0, by: -8) { out.append(UInt8((t >> UInt64(s)) & 0xFF)) }
    u16(UInt16(clamping: subscriptions.count))
    for sub in subscriptions.prefix(Int(UInt16.max)) {
      let text = Array(sub.filter.text.utf8.prefix(65_535))
      u16(UInt16(text.count))
      out += text
      out.append(sub.options.byte)
      u32(sub.identifier)
    }
    u16(UInt16(clamping: awaitingRelease.count))
    for id in awaitingRelease.prefix(Int(UInt16.max)) { u16(id) }
    return out
  }

  /// The state ``encodedState(savedAtMs:connected:)`` wrote, or nil when it cannot be read (then the
  /// session is dropped, and said so).
  static func decodeState(_ bytes: [UInt8]) -> (
    version: ProtocolVersion, connected: Bool, expirySeconds: UInt32, savedAtMs: Int64,
    subscriptions: [ListenerSubscription], awaitingRelease: [UInt16]
  )? {
    var i = 0
    func take(_ n: Int) -> ArraySlice<UInt8>? {
      guard n >= 0, i + n <= bytes.count else { return nil }
      defer { i += n }
      return bytes[i..<i + n]
    }
    func uint(_ n: Int) -> UInt64? { take(n).map { $0.reduce(0) { $0 << 8 | UInt64($1) } } }
    guard let layout = take(1)?.first, layout == 1 || layout == 2, let level = take(1)?.first,
      let version = ProtocolVersion(rawValue: level), let connected = take(1)?.first, connected <= 1,
      let expiry = uint(4),
      let saved = uint(8),
      let count = uint(2)
    else { return nil }
    var subscriptions: [ListenerSubscription] = []
    for _ in 0..<count {
      guard let length = uint(2), let text = take(Int(length)), let options = take(1)?.first,
        let identifier = uint(4), let filter = String(validating: Array(text), as: UTF8.self),
        TopicFilter.problem(filter) == nil, options & 0xC0 == 0, (options >> 4) & 0x03 != 3,
        let qos = QoS(rawValue: options & 0x03)
      else { return nil }
      subscriptions.append(
        ListenerSubscription(
          filter: TopicFilter(filter),
          options: SubscriptionOptions(
            qos: qos, noLocal: options & 0x04 != 0, retainAsPublished: options & 0x08 != 0,
            retainHandling: (options >> 4) & 0x03),
          identifier: UInt32(identifier)))
    }
    var awaitingRelease: [UInt16] = []
    if layout == 2 {
      guard let count = uint(2) else { return nil }
      for _ in 0..<count {
        guard let id = uint(2) else { return nil }
        awaitingRelease.append(UInt16(id))
      }
    }
    guard i == bytes.count else { return nil }
    return (version, connected == 1, UInt32(expiry), Int64(bitPattern: saved), subscriptions, awaitingRelease)
  }
}
