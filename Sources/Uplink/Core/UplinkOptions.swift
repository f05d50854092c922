public import WeirCore

/// One local log topic an uplink forwards.
public struct UplinkTopic: Sendable, Equatable {
  /// The local topic.
  public var name: String
  /// Topics with a higher priority drain first, so an alert raised during an outage goes out before
  /// the telemetry queued ahead of it. Default: 100 for `alerts`, 0 otherwise.
  public var priority: Int
  /// The remote topic for this one, overriding the uplink's template (placeholders allowed).
  /// Default: nil (the template).
  public var remote: String?

  public init(_ name: String, priority: Int? = nil, remote: String? = nil) {
    self.name = name
    self.priority = priority ?? Self.defaultPriority(for: name)
    self.remote = remote
  }

  /// `alerts` first, everything else after it.
  public static func defaultPriority(for name: String) -> Int { name == "alerts" ? 100 : 0 }
}

/// How far beyond its confirmed cursor an uplink may run: records handed to the transport and not
/// yet confirmed. The log is the buffer; this window is all the memory an outage costs.
public struct InFlightWindow: Sendable, Equatable {
  /// Default: 50,000.
  public var maxRecords: Int
  /// Key, value and header bytes. Default: 16 MiB.
  public var maxBytes: Int

  public init(maxRecords: Int = 50_000, maxBytes: Int = 16 << 20) {
    self.maxRecords = maxRecords
    self.maxBytes = maxBytes
  }
}

/// The order a backlog drains in once the remote end is reachable again.
public enum DrainOrder: Sendable, Equatable {
  /// Strictly in offset order per partition (topics by priority). Default.
  case fifo
  /// Records that arrive after the outage go out at once; the backlog gets `backlogShare` (0-1) of
  /// the bandwidth while there is live traffic, and all of it otherwise. Central consumers then see
  /// a partition out of offset order during the catch-up (the `weir.offset` header orders it).
  case liveFirst(backlogShare: Double)
}

/// Where a cursor that never committed starts.
public enum StartPosition: String, Sendable, Equatable {
  /// The oldest record still in the log. Default.
  case earliest
  /// Only what arrives after the uplink first starts.
  case latest
}

/// Settings every uplink has, whatever its transport.
public struct UplinkOptions: Sendable, Equatable, ConfigValidating {
  /// Names the uplink in metrics and its cursor (`uplink:<name>`).
  public var name: String
  /// This gateway's id: the `weir.gateway` header and `{gateway}` in templates.
  public var gateway: String
  /// The local topics to forward.
  public var topics: [UplinkTopic]
  /// The remote topic for a local one; `{gateway}` and `{topic}` are replaced. Default: `{topic}`
  /// (Kafka) or `weir/{gateway}/{topic}` (MQTT).
  public var topicTemplate: String
  /// Default: 50,000 records, 16 MiB.
  public var window: InFlightWindow
  /// How often confirmed positions are committed to `weir.db` (and always at shutdown). After a
  /// crash, up to this much is sent again. Default: 1000 ms.
  public var commitIntervalMs: Int
  /// Cap on key, value and header bytes handed to the transport per second, for metered links
  /// (before compression). Default: nil (no cap).
  public var bandwidthBytesPerSecond: Int?
  /// Bytes the cap lets through at once after an idle spell. Default: a tenth of a second's worth,
  /// at least 16 KiB.
  public var burstBytes: Int?
  /// Default: ``DrainOrder/fifo``.
  public var drainOrder: DrainOrder
  /// Default: 250 ms doubling to 30 s.
  public var backoff: Backoff
  /// Default: ``StartPosition/earliest``.
  public var startAt: StartPosition
  /// How often lag, the snapshot and the gauges are refreshed. Default: 500 ms.
  public var snapshotIntervalMs: Int
  /// With records in flight and no delivery report for this long, the remote end counts as
  /// unreachable (what comes after is marked replayed). Default: 10 s.
  public var stallTimeoutMs: Int
  /// At shutdown, how long to wait for records in flight to be confirmed before committing.
  /// Default: 5 s.
  public var shutdownGraceMs: Int
  /// Bytes read from the log at a time per partition. Default: 256 KiB.
  public var readBytes: Int

  public init(
    name: String, gateway: String, topics: [UplinkTopic], topicTemplate: String = "{topic}",
    window: InFlightWindow = InFlightWindow(), commitIntervalMs: Int = 1000, bandwidthBytesPerSecond: Int? = nil,
    burstBytes: Int? = nil, drainOrder: DrainOrder = .fifo, backoff: Backoff = Backoff(),
    startAt: StartPosition = .earliest, snapshotIntervalMs: Int = 500, stallTimeoutMs: Int = 10_000,
    shutdownGraceMs: Int = 5000, readBytes: Int = 256 << 10
  ) {
    self.name = name
    self.gateway = gateway
    self.topics = topics
    self.topicTemplate = topicTemplate
    self.window = window
    self.commitIntervalMs = commitIntervalMs
    self.bandwidthBytesPerSecond = bandwidthBytesPerSecond
    self.burstBytes = burstBytes
    self.drainOrder = drainOrder
    self.backoff = backoff
    self.startAt = startAt
    self.snapshotIntervalMs = snapshotIntervalMs
    self.stallTimeoutMs = stallTimeoutMs
    self.shutdownGraceMs = shutdownGraceMs
    self.readBytes = readBytes
  }

  /// The cursor this uplink reads through.
  public var cursorName: String { "uplink:\(name)" }

  /// The remote topic `topic` goes to: its own ``UplinkTopic/remote`` or ``topicTemplate``, with
  /// the placeholders replaced; throws for an unknown or unclosed placeholder.
  public func remoteName(of topic: UplinkTopic) throws(UplinkError) -> String {
    try TopicTemplate.render(topic.remote ?? topicTemplate, gateway: gateway, topic: topic.name)
  }

  /// The problems of the remote topic names, for a transport's own ``ConfigValidating/problems()``:
  /// `check` says what is wrong with one (`remote`, for the local topic `local`), nil when nothing;
  /// a template that cannot be rendered is one problem, said once.
  func remoteNameProblems(_ check: (_ remote: String, _ local: String) -> String?) -> [ConfigIssue] {
    var issues: [ConfigIssue] = []
    for topic in topics {
      let issue: ConfigIssue
      do {
        guard let problem = check(try remoteName(of: topic), topic.name) else { continue }
        issue = ConfigIssue(problem)
      } catch {
        issue = ConfigIssue(error.message)
      }
      if !issues.contains(issue) { issues.append(issue) }
    }
    return issues
  }

  /// Checks the values; returns every problem, none when the uplink can start. Each sentence
  /// names the uplink and the setting itself, so the issues have no key (the configuration reader
  /// reports them at the uplink's entry).
  public func problems() -> [ConfigIssue] {
    var issues: [ConfigIssue] = []
    func add(_ message: String) { issues.append(ConfigIssue(message)) }
    if name.isEmpty { add("uplink name must not be empty") }
    if gateway.isEmpty { add("uplink \(name): gateway id must not be empty") }
    if topics.isEmpty { add("uplink \(name): no topics to forward") }
    var seen: Set<String> = []
    var twice: Set<String> = []
    for topic in topics where !seen.insert(topic.name).inserted && twice.insert(topic.name).inserted {
      add("uplink \(name): topic \(topic.name) is listed twice")
    }
    if window.maxRecords < 1 || window.maxBytes < 1024 {
      add(
        "uplink \(name): in-flight window must allow at least 1 record and 1 KiB, got \(window.maxRecords) records, \(window.maxBytes) bytes"
      )
    }
    if commitIntervalMs < 1 { add("uplink \(name): commit interval must be positive") }
    if let rate = bandwidthBytesPerSecond, rate < 1 {
      add("uplink \(name): bandwidth cap must be positive, got \(rate)")
    }
    if let burst = burstBytes, burst < 1 { add("uplink \(name): burst must be positive, got \(burst)") }
    if case .liveFirst(let share) = drainOrder, !(share > 0 && share < 1) {
      add("uplink \(name): backlog share must be between 0 and 1 (exclusive), got \(share)")
    }
    if backoff.initialMs < 1 || backoff.maxMs < backoff.initialMs {
      add("uplink \(name): back-off needs 0 < initial (\(backoff.initialMs) ms) <= max (\(backoff.maxMs) ms)")
    }
    if snapshotIntervalMs < 10 { add("uplink \(name): snapshot interval must be at least 10 ms") }
    if stallTimeoutMs < 1 || shutdownGraceMs < 0 {
      add("uplink \(name): stall timeout and shutdown grace must be positive")
    }
    if readBytes < 4096 { add("uplink \(name): read size must be at least 4096 bytes") }
    return issues
  }
}
