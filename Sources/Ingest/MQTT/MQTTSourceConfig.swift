public import MQTT
import MQTTWire
public import WeirCore

/// How a payload is taken in.
public enum PayloadFormat: String, Sendable, CaseIterable {
  /// Must be valid JSON; key and time fields may be taken from it. `content-type: application/json`.
  case json
  /// Any bytes. `content-type: application/octet-stream`.
  case raw
  /// Must be valid UTF-8. `content-type: text/plain; charset=utf-8`.
  case text
}

/// Where a record's key comes from.
public enum KeySource: Sendable, Equatable {
  /// A level of the MQTT topic, 0-based: `{1}` of `sensors/motor-7/telemetry` is `motor-7`.
  case topicLevel(Int)
  /// A field of the JSON payload (`$.device`, `$.meta.id`).
  case field([String])
  /// The same key for every record.
  case fixed(String)
  /// No key: records spread over the partitions.
  case none

  /// `{n}`, `$.a.b`, or any other text as a fixed key; nil or empty for none.
  public init(parsing text: String?) {
    guard let text, !text.isEmpty else {
      self = .none
      return
    }
    if text.hasPrefix("{"), text.hasSuffix("}"), let n = Int(text.dropFirst().dropLast()), n >= 0 {
      self = .topicLevel(n)
    } else if text.hasPrefix("$.") {
      self = .field(text.dropFirst(2).split(separator: ".").map(String.init))
    } else {
      self = .fixed(text)
    }
  }
}

/// One MQTT subscription and how its messages become records.
public struct MQTTSubscription: Sendable {
  public var filter: String
  /// 0 or 1. Default: 1 (QoS 2 loses a message on a crash with libmosquitto 2.0: see durability.md).
  public var qos: Int
  /// The log topic. Default: `telemetry`.
  public var topic: String
  /// Default: none.
  public var key: KeySource
  /// Default: json.
  public var format: PayloadFormat
  /// A JSON field path holding the event time; nil: the time of arrival. Default: nil.
  public var timeField: [String]?
  /// Default: auto.
  public var timeFormat: TimeFormat
  /// Event times outside go to the dead-letter topic (`bad_timestamp`). Default:
  /// ``EventTimeRange/standard``, 2000-01-01 to 2100-01-01.
  public var timeRange: EventTimeRange = .standard
  /// Extra headers on every record.
  public var headers: [(String, String)]

  public init(
    filter: String, qos: Int = 1, topic: String = "telemetry", key: KeySource = .none, format: PayloadFormat = .json,
    timeField: [String]? = nil, timeFormat: TimeFormat = .auto, headers: [(String, String)] = []
  ) {
    self.filter = filter
    self.qos = qos
    self.topic = topic
    self.key = key
    self.format = format
    self.timeField = timeField
    self.timeFormat = timeFormat
    self.headers = headers
  }
}

/// The MQTT source's settings.
public struct MQTTSourceConfig: Sendable, ConfigValidating {
  /// Names the source in metrics and in the `source` header. Default: `mqtt`.
  public var name: String
  /// The broker, its identity, TLS and session settings.
  public var client: MQTTClientConfig
  /// Reconnect back-off bounds (ms), with jitter. Default: 250 ms to 30 s.
  public var reconnectMinMs: Int
  public var reconnectMaxMs: Int
  /// Larger payloads go to the dead-letter topic. Default: 256 KiB.
  public var maxPayloadBytes: Int
  /// Messages taken per read pass (one group commit). Default: 1000.
  public var batchMaxMessages: Int
  /// Payload bytes taken per read pass: a pass ends at whichever of this and ``batchMaxMessages``
  /// comes first, so its batches always fit the log's batch limit. Default: 4 MiB.
  public var batchMaxBytes: Int = 4 << 20
  /// A subscription not acknowledged within this is reported as stalled. Default: 10 s.
  public var subscriptionStallMs: Int
  public var deadLetterTopic: String
  public var subscriptions: [MQTTSubscription]

  public init(
    name: String = "mqtt", client: MQTTClientConfig, reconnectMinMs: Int = 250, reconnectMaxMs: Int = 30_000,
    maxPayloadBytes: Int = 256 * 1024, batchMaxMessages: Int = 1000, subscriptionStallMs: Int = 10_000,
    deadLetterTopic: String = "deadletter", subscriptions: [MQTTSubscription]
  ) {
    self.name = name
    self.client = client
    self.reconnectMinMs = reconnectMinMs
    self.reconnectMaxMs = reconnectMaxMs
    self.maxPayloadBytes = maxPayloadBytes
    self.batchMaxMessages = batchMaxMessages
    self.subscriptionStallMs = subscriptionStallMs
    self.deadLetterTopic = deadLetterTopic
    self.subscriptions = subscriptions
  }

  /// The client id a gateway uses for a source: stable, so the broker keeps the session.
  public static func stableClientID(gateway: String, source: String) -> String {
    "weir-\(gateway)-\(source)"
  }

  /// What is wrong, as sentences a person can act on. The sentences name the subscription or the
  /// setting themselves, so the issues have no key: the configuration reader reports a
  /// subscription's at its entry and the rest at the source's.
  public func problems() -> [ConfigIssue] {
    var out: [ConfigIssue] = []
    if subscriptions.isEmpty { out.append(ConfigIssue("no subscriptions: add at least one topic filter")) }
    for s in subscriptions {
      if let p = TopicFilter.problem(s.filter) { out.append(ConfigIssue(p)) }
      if s.qos < 0 || s.qos > 1 {
        out.append(
          ConfigIssue(
            "subscription '\(s.filter)': qos must be 0 or 1 (QoS 2 loses messages on a crash with libmosquitto 2.0)"))
      }
      if case .field = s.key, s.format != .json {
        out.append(ConfigIssue("subscription '\(s.filter)': a key from a payload field needs format json"))
      }
      if s.timeField != nil && s.format != .json {
        out.append(ConfigIssue("subscription '\(s.filter)': a time field needs format json"))
      }
    }
    if reconnectMinMs < 1 || reconnectMaxMs < reconnectMinMs {
      out.append(ConfigIssue("reconnect back-off bounds are inverted"))
    }
    if maxPayloadBytes < 1 { out.append(ConfigIssue("max payload bytes must be positive")) }
    if batchMaxMessages < 1 { out.append(ConfigIssue("batch size must be positive")) }
    if batchMaxBytes < 1 { out.append(ConfigIssue("batch_max_bytes must be positive")) }
    for s in subscriptions where s.timeRange.earliestMs > s.timeRange.latestMs {
      out.append(ConfigIssue("subscription '\(s.filter)': time_min is after time_max"))
    }
    return out
  }
}
