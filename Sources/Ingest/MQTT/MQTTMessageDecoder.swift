import MQTT
import MQTTWire
import Metrics
import PartitionedLog
import Payload
import WeirCore

/// A received MQTT message, from the libmosquitto client or from Weir's own listener: views valid
/// for the length of the call that hands it over.
protocol MQTTIncoming {
  var topic: UnsafeRawBufferPointer { get }
  var payload: UnsafeRawBufferPointer { get }
  /// 0, 1 or 2.
  var qosLevel: Int { get }
  /// The PUBLISH's retain flag.
  var retainFlag: Bool { get }
  /// Whether the message has MQTT 5.0 user properties at all.
  var hasUserProperties: Bool { get }
  func forEachUserProperty(_ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void)
}

extension MQTTMessageView: MQTTIncoming {
  var qosLevel: Int { Int(qos) }
  var retainFlag: Bool { retain }
  var hasUserProperties: Bool { !userProperties.isEmpty }
  func forEachUserProperty(_ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void) {
    for (k, v) in userProperties {
      var k = k
      var v = v
      k.withUTF8 { kb in v.withUTF8 { vb in body(UnsafeRawBufferPointer(kb), UnsafeRawBufferPointer(vb)) } }
    }
  }
}

extension Publish: MQTTIncoming {
  var qosLevel: Int { Int(qos.rawValue) }
  var retainFlag: Bool { retain }
  var hasUserProperties: Bool { properties.userPropertyCount > 0 }
  func forEachUserProperty(_ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void) {
    properties.forEachUserProperty(body)
  }
}

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
    /// The time field and the key field (when the key is one), found while the payload is validated.
    let fields: JSONFields?
    let timeSlot: Int?
    let keySlot: Int?
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
      fixedHeaders.add(MQTTHeader.source, source)
      for (k, v) in s.headers { fixedHeaders.add(k, v) }
      var paths: [[JSONPathComponent]] = []
      if let time = s.timeField {
        timeSlot = paths.count
        paths.append(time.map { .key($0) })
      } else {
        timeSlot = nil
      }
      if case .field(let path) = s.key {
        keySlot = paths.count
        paths.append(path.map { .key($0) })
      } else {
        keySlot = nil
      }
      fields = paths.isEmpty ? nil : JSONFields(paths: paths)
      if case .fixed(let text) = s.key { fixedKey = Array(text.utf8) } else { fixedKey = nil }
    }
  }

  let router: LogRouter
  let routes: [Route]
  let catchAll: Route?
  let maxPayloadBytes: Int
  private let headers = RecordHeaders()
  private let keyBuffer = ByteBuffer(capacity: 256)
  private static let qosText: [[UInt8]] = [Array("0".utf8), Array("1".utf8), Array("2".utf8)]
  private static let one = Array("1".utf8)
  /// Ingest time for records without an event-time field; set once per read pass.
  var now: Int64 = 0
  /// Messages that matched no subscription (an overlapping filter removed meanwhile).
  private let noRoute: Counter

  convenience init(config: MQTTSourceConfig, router: LogRouter, source: String) throws(LogError) {
    try self.init(
      routes: config.subscriptions, maxPayloadBytes: config.maxPayloadBytes, router: router, source: source)
  }

  /// `routes` in order of precedence: a message goes to the first whose filter matches.
  /// `catchAll`: a route for every message no route matched, `$` topics included (a `#` filter
  /// does not match those, as the specifications say for subscriptions; the listener's catch-all
  /// must still store them).
  init(
    routes subscriptions: [MQTTSubscription], maxPayloadBytes: Int, router: LogRouter, source: String,
    catchAll: MQTTSubscription? = nil
  ) throws(LogError) {
    self.router = router
    var routes: [Route] = []
    for s in subscriptions {
      routes.append(Route(s, topic: try router.route(s.topic), source: source))
    }
    self.routes = routes
    if let catchAll {
      self.catchAll = Route(catchAll, topic: try router.route(catchAll.topic), source: source)
    } else {
      self.catchAll = nil
    }
    self.maxPayloadBytes = maxPayloadBytes
    noRoute = Counter(label: "weir_ingest_dropped_total", dimensions: [("source", source), ("reason", "no_route")])
  }

  /// Routes `message`; false when no route matches it (nothing was written).
  @discardableResult
  /// `origin`: the publishing client's identifier (the listener's clients), kept as the
  /// `mqtt.client_id` header. `packetID`: kept as the `mqtt.packet_id` header (decimal), the
  /// listener's record of a persistent session's QoS 2 PUBLISH, read back after a restart so
  /// the client's retry is not written twice.
  func handle(_ message: some MQTTIncoming, origin: UnsafeRawBufferPointer? = nil, packetID: UInt16? = nil) -> Bool {
    // A message no subscription matches (an overlapping filter removed meanwhile) is not ours.
    guard let route = routes.first(where: { $0.filter.matches(message.topic) }) ?? catchAll else {
      noRoute.increment()
      return false
    }
    headers.removeAll()
    MQTTHeader.Bytes.topic.withUnsafeBytes { k in headers.add(key: k, value: message.topic) }
    Self.qosText[max(0, min(2, message.qosLevel))].withUnsafeBytes { v in
      MQTTHeader.Bytes.qos.withUnsafeBytes { k in headers.add(key: k, value: v) }
    }
    if message.retainFlag {
      Self.one.withUnsafeBytes { v in MQTTHeader.Bytes.retain.withUnsafeBytes { k in headers.add(key: k, value: v) } }
    }
    if let origin { MQTTHeader.Bytes.clientID.withUnsafeBytes { k in headers.add(key: k, value: origin) } }
    if let packetID {
      withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 5) { digits in
        var n = packetID
        var i = 5
        repeat {
          i -= 1
          digits[i] = UInt8(ascii: "0") + UInt8(n % 10)
          n /= 10
        } while n > 0
        let v = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(digits)[i...])
        MQTTHeader.Bytes.packetID.withUnsafeBytes { k in headers.add(key: k, value: v) }
      }
    }
    headers.append(contentsOf: route.fixedHeaders)
    let payload = message.payload
    // User properties become headers, so they count against the limit with the payload.
    var propertyBytes = 0
    if message.hasUserProperties { message.forEachUserProperty { propertyBytes += $0.count + $1.count + 4 } }
    if payload.count > maxPayloadBytes || payload.count + propertyBytes > maxPayloadBytes {
      let detail =
        propertyBytes > 0
        ? "\(payload.count) bytes and \(propertyBytes) bytes of user properties, limit \(maxPayloadBytes)"
        : "\(payload.count) bytes, limit \(maxPayloadBytes)"
      router.deadLetter(payload, reason: .oversize, detail: detail, timestamp: now, headers: headers)
      return true
    }
    if message.hasUserProperties { message.forEachUserProperty { headers.add(key: $0, value: $1) } }
    // One pass validates a JSON payload and finds its time and key fields.
    var problem: JSONProblem?
    if let fields = route.fields {
      problem = fields.validate(payload)
    } else if route.subscription.format == .json {
      problem = JSONFields.validate(payload)
    }
    switch route.subscription.format {
    case .json:
      if let problem {
        router.deadLetter(payload, reason: .invalidJSON, detail: "\(problem)", timestamp: now, headers: headers)
        return true
      }
    case .text:
      if String(validating: payload, as: UTF8.self) == nil {
        router.deadLetter(
          payload, reason: .invalidText, detail: "payload is not UTF-8", timestamp: now, headers: headers)
        return true
      }
    case .raw:
      break
    }
    /// A field of a payload that is not JSON is missing.
    func field(_ slot: Int?) -> JSONSpan? {
      guard let slot, problem == nil else { return nil }
      return route.fields?[slot]
    }
    var timestamp = now
    if route.timeSlot != nil {
      guard let field = field(route.timeSlot) else {
        router.deadLetter(
          payload, reason: .missingTimestamp,
          detail: "no field \(route.subscription.timeField!.joined(separator: "."))",
          timestamp: now, headers: headers)
        return true
      }
      let bytes = UnsafeRawBufferPointer(rebasing: payload[field.range])
      guard !field.escaped,
        let t = EpochTime.parse(bytes, isString: field.kind == .string, format: route.subscription.timeFormat)
      else {
        router.deadLetter(
          payload, reason: .badTimestamp,
          detail:
            "\(route.subscription.timeField!.joined(separator: ".")) = \(String(decoding: bytes.prefix(40), as: UTF8.self))",
          timestamp: now, headers: headers)
        return true
      }
      guard route.subscription.timeRange.contains(t) else {
        router.deadLetter(
          payload, reason: .badTimestamp,
          detail:
            "\(route.subscription.timeField!.joined(separator: ".")) = \(String(decoding: bytes.prefix(40), as: UTF8.self)) is outside the accepted event times, \(route.subscription.timeRange)",
          timestamp: now, headers: headers)
        return true
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
        router.deadLetter(
          payload, reason: .missingKey, detail: "topic has no level \(n)", timestamp: now, headers: headers)
        return true
      }
      router.append(
        route.topic, key: UnsafeRawBufferPointer(rebasing: message.topic[range]), value: payload, timestamp: timestamp,
        headers: headers)
    case .field(let path):
      guard let field = field(route.keySlot), field.kind == .string || !field.range.isEmpty else {
        router.deadLetter(
          payload, reason: .missingKey, detail: "no field \(path.joined(separator: "."))", timestamp: now,
          headers: headers)
        return true
      }
      var key = UnsafeRawBufferPointer(rebasing: payload[field.range])
      if field.escaped {
        keyBuffer.removeAll()
        JSONString.unescape(key) { keyBuffer.appendByte($0) }
        key = keyBuffer.bytes
      }
      router.append(route.topic, key: key, value: payload, timestamp: timestamp, headers: headers)
    }
    return true
  }
}
