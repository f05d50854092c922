import Metrics
import MQTT
import PartitionedLog

/// Turns received MQTT messages into log records or dead letters: checks the payload format,
/// takes the key and the event time, adds the headers, and hands the record to the router.
/// Runs on the source's loop thread; reuses its buffers, so a message costs no allocation.
final class MQTTMessageDecoder {
  final class Route {
    let subscription: MQTTSubscription
    let filter: TopicFilter
    let topic: TopicRoute
    /// `content-type`, `source` and the subscription's static headers, encoded once.
    let fixedHeaders = RecordHeaders()
    let keyPath: [[UInt8]]?
    let timePath: [[UInt8]]?
    let fixedKey: [UInt8]?

    init(_ s: MQTTSubscription, topic: TopicRoute, source: String) {
      subscription = s
      filter = TopicFilter(s.filter)
      self.topic = topic
      let contentType: String
      switch s.format {
      case .json: contentType = "application/json"
      case .raw: contentType = "application/octet-stream"
      case .text: contentType = "text/plain; charset=utf-8"
      }
      fixedHeaders.add("content-type", contentType)
      fixedHeaders.add("source", source)
      for (k, v) in s.headers { fixedHeaders.add(k, v) }
      if case .field(let path) = s.key { keyPath = path.map { Array($0.utf8) } } else { keyPath = nil }
      if case .fixed(let text) = s.key { fixedKey = Array(text.utf8) } else { fixedKey = nil }
      timePath = s.timeField.map { $0.map { Array($0.utf8) } }
    }
  }

  let router: LogRouter
  let routes: [Route]
  let maxPayloadBytes: Int
  private let headers = RecordHeaders()
  private let keyBuffer = ByteBuffer(capacity: 256)
  private static let qosText: [[UInt8]] = [Array("0".utf8), Array("1".utf8), Array("2".utf8)]
  private static let topicHeader = Array("mqtt.topic".utf8)
  private static let qosHeader = Array("mqtt.qos".utf8)
  /// Ingest time for records without an event-time field; set once per read pass.
  var now: Int64 = 0
  /// Messages that matched no subscription (an overlapping filter removed meanwhile).
  private let noRoute: Counter

  init(config: MQTTSourceConfig, router: LogRouter, source: String) throws(LogError) {
    self.router = router
    var routes: [Route] = []
    for s in config.subscriptions {
      routes.append(Route(s, topic: try router.route(s.topic), source: source))
    }
    self.routes = routes
    maxPayloadBytes = config.maxPayloadBytes
    noRoute = Counter(label: "weir_ingest_dropped_total", dimensions: [("source", source), ("reason", "no_route")])
  }

  func handle(_ message: MQTTMessageView) {
    // A message no subscription matches (an overlapping filter removed meanwhile) is not ours.
    guard let route = routes.first(where: { $0.filter.matches(message.topic) }) else {
      noRoute.increment()
      return
    }
    headers.removeAll()
    Self.topicHeader.withUnsafeBytes { k in headers.add(key: k, value: message.topic) }
    Self.qosText[Int(max(0, min(2, message.qos)))].withUnsafeBytes { v in
      Self.qosHeader.withUnsafeBytes { k in headers.add(key: k, value: v) }
    }
    headers.append(contentsOf: route.fixedHeaders)
    let payload = message.payload
    // User properties become headers, so they count against the limit with the payload.
    var propertyBytes = 0
    for (k, v) in message.userProperties { propertyBytes += k.utf8.count + v.utf8.count + 4 }
    if payload.count > maxPayloadBytes || payload.count + propertyBytes > maxPayloadBytes {
      let detail =
        propertyBytes > 0
        ? "\(payload.count) bytes and \(propertyBytes) bytes of user properties, limit \(maxPayloadBytes)"
        : "\(payload.count) bytes, limit \(maxPayloadBytes)"
      router.deadLetter(payload, reason: .oversize, detail: detail, timestamp: now, headers: headers)
      return
    }
    for (k, v) in message.userProperties { headers.add(k, v) }
    switch route.subscription.format {
    case .json:
      if let problem = JSONScanner.validate(payload) {
        router.deadLetter(payload, reason: .invalidJSON, detail: problem, timestamp: now, headers: headers)
        return
      }
    case .text:
      if String(validating: payload, as: UTF8.self) == nil {
        router.deadLetter(payload, reason: .invalidText, detail: "payload is not UTF-8", timestamp: now, headers: headers)
        return
      }
    case .raw:
      break
    }
    var timestamp = now
    if let path = route.timePath {
      guard let field = JSONScanner.find(path, in: payload) else {
        router.deadLetter(
          payload, reason: .missingTimestamp, detail: "no field \(route.subscription.timeField!.joined(separator: "."))",
          timestamp: now, headers: headers)
        return
      }
      let bytes = UnsafeRawBufferPointer(rebasing: payload[field.range])
      guard !field.escaped, let t = Timestamps.parse(bytes, isString: field.isString, format: route.subscription.timeFormat)
      else {
        router.deadLetter(
          payload, reason: .badTimestamp,
          detail: "\(route.subscription.timeField!.joined(separator: ".")) = \(String(decoding: bytes.prefix(40), as: UTF8.self))",
          timestamp: now, headers: headers)
        return
      }
      guard route.subscription.timeRange.contains(t) else {
        router.deadLetter(
          payload, reason: .badTimestamp,
          detail:
            "\(route.subscription.timeField!.joined(separator: ".")) = \(String(decoding: bytes.prefix(40), as: UTF8.self)) is outside the accepted event times, \(route.subscription.timeRange)",
          timestamp: now, headers: headers)
        return
      }
      timestamp = t
    }
    switch route.subscription.key {
    case .none:
      router.append(route.topic, key: nil, value: payload, timestamp: timestamp, headers: headers)
    case .fixed:
      route.fixedKey!.withUnsafeBytes { k in
        router.append(route.topic, key: k, value: payload, timestamp: timestamp, headers: headers)
      }
    case .topicLevel(let n):
      guard let range = TopicFilter.level(n, of: message.topic), !range.isEmpty else {
        router.deadLetter(payload, reason: .missingKey, detail: "topic has no level \(n)", timestamp: now, headers: headers)
        return
      }
      router.append(
        route.topic, key: UnsafeRawBufferPointer(rebasing: message.topic[range]), value: payload, timestamp: timestamp,
        headers: headers)
    case .field(let path):
      guard let field = JSONScanner.find(route.keyPath!, in: payload), field.isString || !field.range.isEmpty else {
        router.deadLetter(
          payload, reason: .missingKey, detail: "no field \(path.joined(separator: "."))", timestamp: now, headers: headers)
        return
      }
      var key = UnsafeRawBufferPointer(rebasing: payload[field.range])
      if field.escaped {
        keyBuffer.removeAll()
        JSONUnescape.append(key, to: keyBuffer)
        key = keyBuffer.bytes
      }
      router.append(route.topic, key: key, value: payload, timestamp: timestamp, headers: headers)
    }
  }
}

/// Decodes a JSON string's escapes (the contents between the quotes of a valid string).
enum JSONUnescape {
  static func append(_ s: UnsafeRawBufferPointer, to out: ByteBuffer) {
    var i = 0
    while i < s.count {
      let c = s[i]
      guard c == UInt8(ascii: "\\"), i + 1 < s.count else {
        out.appendByte(c)
        i += 1
        continue
      }
      let e = s[i + 1]
      i += 2
      switch e {
      case UInt8(ascii: "n"): out.appendByte(0x0a)
      case UInt8(ascii: "t"): out.appendByte(0x09)
      case UInt8(ascii: "r"): out.appendByte(0x0d)
      case UInt8(ascii: "b"): out.appendByte(0x08)
      case UInt8(ascii: "f"): out.appendByte(0x0c)
      case UInt8(ascii: "u"):
        guard i + 4 <= s.count, let v = UInt32(String(decoding: s[i..<(i + 4)], as: UTF8.self), radix: 16) else { return }
        i += 4
        var scalar = v
        if (0xD800..<0xDC00).contains(v), i + 6 <= s.count, s[i] == UInt8(ascii: "\\"), s[i + 1] == UInt8(ascii: "u"),
          let low = UInt32(String(decoding: s[(i + 2)..<(i + 6)], as: UTF8.self), radix: 16), (0xDC00..<0xE000).contains(low)
        {
          scalar = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
          i += 6
        }
        for b in String(Unicode.Scalar(scalar).map(Character.init) ?? "\u{FFFD}").utf8 { out.appendByte(b) }
      default: out.appendByte(e)
      }
    }
  }
}
