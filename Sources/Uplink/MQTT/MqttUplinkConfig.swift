public import MQTT
public import WeirCore

/// An MQTT uplink: the central broker and the settings every uplink has. Records are published
/// at QoS 1 on a persistent session; the cursor moves on PUBACK.
public struct MqttUplinkConfig: Sendable, Equatable, ConfigValidating {
  public var uplink: UplinkOptions
  /// The central broker (TLS, credentials). `cleanSession` must stay false and `clientID` stable,
  /// so the broker keeps the session across reconnections.
  public var broker: MQTTClientConfig
  /// A record published and not acknowledged for this long while connected fails, and its
  /// partition rewinds. Default: 30 s.
  public var ackTimeoutMs: Int
  /// Between connection attempts. Default: 1 s doubling to 30 s, with jitter.
  public var reconnectBackoff: Backoff

  /// The template default for MQTT: `weir/{gateway}/{topic}`.
  public static let defaultTopicTemplate = "weir/{gateway}/{topic}"

  public init(
    uplink: UplinkOptions, broker: MQTTClientConfig, ackTimeoutMs: Int = 30_000,
    reconnectBackoff: Backoff = Backoff(initialMs: 1000, maxMs: 30_000)
  ) {
    self.uplink = uplink
    self.broker = broker
    self.ackTimeoutMs = ackTimeoutMs
    self.reconnectBackoff = reconnectBackoff
  }

  /// Checks everything: the settings every uplink has, then MQTT's own, with no keys (each
  /// sentence names the uplink and the setting).
  public func problems() -> [ConfigIssue] {
    var issues = uplink.problems()
    let name = uplink.name
    func add(_ message: String) { issues.append(ConfigIssue(message)) }
    if broker.cleanSession { add("uplink \(name): the MQTT session must be persistent (clean_session false)") }
    if broker.clientID.isEmpty { add("uplink \(name): the MQTT client id must be set and stable") }
    if uplink.window.maxRecords > 60_000 {
      add(
        "uplink \(name): an MQTT window holds at most 60000 records (message ids are 16-bit), got \(uplink.window.maxRecords)"
      )
    }
    if ackTimeoutMs < 100 { add("uplink \(name): ack timeout must be at least 100 ms") }
    issues += uplink.remoteNameProblems { remote, local in
      if remote.isEmpty || remote.contains("+") || remote.contains("#") || remote.hasPrefix("$")
        || remote.utf8.count > 65535
      {
        return
          "uplink \(name): MQTT topic '\(remote)' for \(local) must be non-empty, without wildcards (+ #) and not start with $"
      }
      return nil
    }
    return issues
  }
}
