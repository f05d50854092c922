import PartitionedLog
public import WeirCore

/// Compression codecs librdkafka may be built with.
public enum KafkaCompression: String, Sendable, CaseIterable {
  case none, gzip, snappy, lz4, zstd

  /// The `builtin.features` entry the library needs for it.
  var feature: String? { self == .none ? nil : rawValue }
}

/// A Kafka uplink: where to, how to batch, and the settings every uplink has.
public struct KafkaUplinkConfig: Sendable, Equatable, ConfigValidating {
  public var uplink: UplinkOptions
  /// `host:port,...` of the central cluster.
  public var bootstrapServers: String
  /// Default: lz4.
  public var compression: KafkaCompression
  /// How long librdkafka waits to fill a batch. Default: 5 ms (0 halves the rate, docs/parts.md).
  public var lingerMs: Int
  /// Largest batch per partition request, in bytes. Default: 1,000,000.
  public var batchBytes: Int
  /// Largest batch in records. Default: 10,000.
  public var batchRecords: Int
  /// How long librdkafka retries a record before failing it (`message.timeout.ms`); the uplink
  /// then re-reads it from the log. Default: 60 s.
  public var messageTimeoutMs: Int
  /// Any librdkafka property, applied after Weir's own (TLS: `security.protocol`, `ssl.ca.location`...;
  /// SASL: `sasl.mechanisms` `SCRAM-SHA-256`/`SCRAM-SHA-512`/`PLAIN`, `sasl.username`, `sasl.password`).
  /// Idempotence, acks and the partitioner are fixed. Default: none.
  public var properties: [String: String]

  public init(
    uplink: UplinkOptions, bootstrapServers: String, compression: KafkaCompression = .lz4, lingerMs: Int = 5,
    batchBytes: Int = 1_000_000, batchRecords: Int = 10_000, messageTimeoutMs: Int = 60_000,
    properties: [String: String] = [:]
  ) {
    self.uplink = uplink
    self.bootstrapServers = bootstrapServers
    self.compression = compression
    self.lingerMs = lingerMs
    self.batchBytes = batchBytes
    self.batchRecords = batchRecords
    self.messageTimeoutMs = messageTimeoutMs
    self.properties = properties
  }

  /// Properties that the uplink's guarantees rest on.
  static let fixed: [String: Set<String>] = [
    "enable.idempotence": ["true"], "acks": ["all", "-1"], "request.required.acks": ["all", "-1"],
    "partitioner": ["murmur2_random"],
  ]

  /// Checks everything: the settings every uplink has, then Kafka's own, with no keys (each
  /// sentence names the uplink and the setting).
  ///
  /// The compression codec and each pass-through property are checked against the librdkafka
  /// linked in: its `builtin.features`, and `rd_kafka_conf_set` on a configuration object made
  /// for the check and freed after it. That needs librdkafka at validation time, but it creates
  /// no client and connects nowhere, so it stays a side-effect-free check here rather than a
  /// separate throwing one.
  public func problems() -> [ConfigIssue] {
    var issues = uplink.problems()
    let name = uplink.name
    func add(_ message: String) { issues.append(ConfigIssue(message)) }
    if bootstrapServers.isEmpty { add("uplink \(name): bootstrap servers are empty") }
    if lingerMs < 0 || batchBytes < 1 || batchRecords < 1 || messageTimeoutMs < 1 {
      add("uplink \(name): linger must be >= 0 and batch sizes and message timeout positive")
    }
    if let feature = compression.feature, !RdKafkaProducer.builtinFeatures.contains(feature) {
      add(
        "uplink \(name): this librdkafka (\(RdKafkaProducer.version)) is built without \(feature) compression; available: \(RdKafkaProducer.builtinFeatures.sorted().joined(separator: ","))"
      )
    }
    for (key, value) in properties.sorted(by: { $0.key < $1.key }) {
      if let allowed = Self.fixed[key], !allowed.contains(value) {
        add("uplink \(name): \(key)=\(value) is not allowed; the uplink needs \(allowed.sorted()[0])")
      }
      if let problem = RdKafkaProducer.check(property: key, value: value) { add("uplink \(name): \(problem)") }
    }
    issues += uplink.remoteNameProblems { remote, local in
      Topic.nameProblem(remote).map { "uplink \(name): remote topic for \(local): \($0)" }
    }
    return issues
  }

  /// librdkafka properties, in order: Weir's, then the pass-through ones (what the uplink's
  /// producer is created with; public so a benchmark can build a bare producer just like it).
  public var producerProperties: [(String, String)] { librdkafkaProperties }

  /// librdkafka properties, in order: Weir's, then the pass-through ones.
  var librdkafkaProperties: [(String, String)] {
    let window = uplink.window
    var list: [(String, String)] = [
      ("bootstrap.servers", bootstrapServers),
      ("client.id", "weir-\(uplink.gateway)-\(uplink.name)"),
      ("enable.idempotence", "true"),
      ("acks", "all"),
      ("partitioner", "murmur2_random"),
      ("compression.codec", compression.rawValue),
      ("linger.ms", String(lingerMs)),
      ("batch.size", String(batchBytes)),
      ("batch.num.messages", String(batchRecords)),
      ("message.timeout.ms", String(messageTimeoutMs)),
      // The window bounds what is queued; librdkafka's own queue only needs room for it.
      ("queue.buffering.max.messages", String(max(window.maxRecords * 2, 10_000))),
      ("queue.buffering.max.kbytes", String(max(window.maxBytes * 4 / 1024, 16 * 1024))),
      ("log_level", "4"),
    ]
    for (key, value) in properties.sorted(by: { $0.key < $1.key }) { list.append((key, value)) }
    return list
  }
}
