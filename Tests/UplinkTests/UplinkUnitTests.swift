import Foundation
import PartitionedLog
import Testing
import WeirCore

@testable import Uplink

@Suite struct UplinkUnitTests {
  @Test(arguments: [
    ("{topic}", "gw", "telemetry", "telemetry"),
    ("edge.{topic}", "gw", "telemetry", "edge.telemetry"),
    ("{gateway}.{topic}.v1", "gw-7", "alerts", "gw-7.alerts.v1"),
    ("central", "gw", "telemetry", "central"),
  ])
  func topicTemplates(template: String, gateway: String, topic: String, expected: String) throws {
    #expect(try TopicTemplate.render(template, gateway: gateway, topic: topic) == expected)
  }

  @Test func topicTemplateErrorsNameThePlaceholder() {
    #expect(throws: UplinkError.self) { try TopicTemplate.render("edge.{device}", gateway: "g", topic: "t") }
    #expect(throws: UplinkError.self) { try TopicTemplate.render("edge.{topic", gateway: "g", topic: "t") }
    do {
      _ = try TopicTemplate.render("x.{partition}", gateway: "g", topic: "t")
    } catch {
      #expect(error.message.contains("{partition}") && error.message.contains("{gateway}"))
    }
  }

  @Test func rangeSetAdvancesOverTheContiguousPrefix() {
    var set = OffsetRangeSet()
    var confirmed: Int64 = 10
    confirmed = set.confirm(10, 11, after: confirmed)
    #expect(confirmed == 11)
    confirmed = set.confirm(13, 14, after: confirmed)
    confirmed = set.confirm(15, 20, after: confirmed)
    #expect(confirmed == 11)
    confirmed = set.confirm(12, 13, after: confirmed)
    #expect(confirmed == 11)
    confirmed = set.confirm(14, 15, after: confirmed)
    #expect(confirmed == 11)
    #expect(set.ranges.count == 1)
    confirmed = set.confirm(11, 12, after: confirmed)
    #expect(confirmed == 20)
    #expect(set.isEmpty)
  }

  @Test func ringFindsEntriesBySequenceAndForgetsOnRewind() {
    var ring = InFlightRing()
    var sequences: [UInt64] = []
    for i in 0..<200 {
      sequences.append(
        ring.push(
          InFlightEntry(offset: Int64(i), next: Int64(i + 1), timestamp: 0, sentAtNs: 0, bytes: 1, state: .pending)))
    }
    #expect(ring.position(of: sequences[150]) == 150)
    ring[0].state = .done
    ring[1].state = .done
    ring[3].state = .done
    ring.popDone()
    #expect(ring.count == 198)
    #expect(ring.first?.offset == 2)
    #expect(ring.position(of: sequences[3]) == 1)
    #expect(ring.position(of: sequences[0]) == nil)
    ring.removeAll()
    #expect(ring.position(of: sequences[150]) == nil)
    let next = ring.push(InFlightEntry(offset: 0, next: 1, timestamp: 0, sentAtNs: 0, bytes: 1, state: .pending))
    #expect(next == sequences[199] + 1)
  }

  @Test func tokenBucketKeepsTheLongRunRate() {
    var bucket = TokenBucket(bytesPerSecond: 1000, burst: 100, nowNs: 0)
    var sent = 0
    var now: Int64 = 0
    while now < 10_000_000_000 {
      bucket.refill(nowNs: now)
      while bucket.take(30) { sent += 30 }
      now += 1_000_000
    }
    #expect(abs(sent - 10_000) <= 200)
  }

  @Test func backoffGrowsWithJitterUpToTheMaximum() {
    var random = SystemRandomNumberGenerator()
    let backoff = Backoff(initialMs: 100, maxMs: 1000)
    #expect(backoff.delayMs(failures: 0, using: &random) == 0)
    let first = (0..<50).map { _ in backoff.delayMs(failures: 1, using: &random) }
    #expect(first.allSatisfy { (50...100).contains($0) })
    #expect(Set(first).count > 1)
    #expect(
      (0..<50).map { _ in backoff.delayMs(failures: 30, using: &random) }.allSatisfy { (500...1000).contains($0) })
  }

  @Test func decimalFormatting() {
    let bytes = OwnedBytes(count: 24)
    for value: Int64 in [0, 7, 10, 123_456_789, Int64.max, -42] {
      #expect(String(decoding: bytes.formatDecimal(value), as: UTF8.self) == String(value))
    }
  }

  @Test func optionsProblemsAreSpecific() {
    var options = UplinkOptions(name: "c", gateway: "g", topics: [UplinkTopic("t")])
    #expect(options.problems().isEmpty)
    options.drainOrder = .liveFirst(backlogShare: 1.5)
    #expect(
      options.problems().map(\.message) == ["uplink c: backlog share must be between 0 and 1 (exclusive), got 1.5"])
    options.drainOrder = .fifo
    options.topics = [UplinkTopic("t"), UplinkTopic("t"), UplinkTopic("t")]
    #expect(options.problems().map(\.message) == ["uplink c: topic t is listed twice"])
    options.topics = []
    #expect(options.problems().map(\.message) == ["uplink c: no topics to forward"])
    // Every problem, not only the first, and none has a key: each sentence names its setting.
    options.commitIntervalMs = 0
    options.readBytes = 1
    #expect(
      options.problems() == [
        ConfigIssue("uplink c: no topics to forward"), ConfigIssue("uplink c: commit interval must be positive"),
        ConfigIssue("uplink c: read size must be at least 4096 bytes"),
      ])
  }
}

@Suite struct KafkaConfigTests {
  func config(_ change: (inout KafkaUplinkConfig) -> Void) -> KafkaUplinkConfig {
    var c = KafkaUplinkConfig(
      uplink: UplinkOptions(name: "central", gateway: "gw", topics: [UplinkTopic("telemetry"), UplinkTopic("alerts")]),
      bootstrapServers: "127.0.0.1:9092")
    change(&c)
    return c
  }

  @Test func defaultsValidateAndPrioritiseAlerts() throws {
    let c = config { _ in }
    #expect(c.problems().isEmpty)
    #expect(c.uplink.topics.first { $0.name == "alerts" }?.priority == 100)
    #expect(c.uplink.topics.first { $0.name == "telemetry" }?.priority == 0)
    let properties = Dictionary(c.librdkafkaProperties, uniquingKeysWith: { $1 })
    #expect(properties["enable.idempotence"] == "true")
    #expect(properties["acks"] == "all")
    #expect(properties["partitioner"] == "murmur2_random")
    #expect(properties["compression.codec"] == "lz4")
  }

  @Test func compressionCodecsTheLibraryHas() throws {
    let features = RdKafkaProducer.builtinFeatures
    for codec in KafkaCompression.allCases {
      let c = config { $0.compression = codec }
      if codec == .none || features.contains(codec.rawValue) {
        #expect(c.problems().isEmpty)
      } else {
        #expect(c.problems().contains { $0.message.contains("built without \(codec.rawValue) compression") })
      }
    }
  }

  @Test func passThroughPropertiesAreCheckedByLibrdkafka() throws {
    let features = RdKafkaProducer.builtinFeatures
    if features.contains("ssl") && features.contains("sasl_scram") {
      let scram = config {
        $0.properties = [
          "security.protocol": "sasl_ssl", "sasl.mechanisms": "SCRAM-SHA-512", "sasl.username": "edge",
          "sasl.password": "secret", "ssl.ca.location": "/etc/ssl/certs/ca-certificates.crt",
        ]
      }
      #expect(scram.problems().isEmpty)
      let plain = config {
        $0.properties = [
          "security.protocol": "sasl_plaintext", "sasl.mechanisms": "PLAIN", "sasl.username": "u", "sasl.password": "p",
        ]
      }
      #expect(plain.problems().isEmpty)
    }
    let unknown = config { $0.properties = ["no.such.property": "1"] }.problems()
    #expect(unknown.count == 1 && unknown[0].message.contains("no.such.property"), "\(unknown)")
    #expect(
      config { $0.properties = ["enable.idempotence": "false"] }.problems().map(\.message) == [
        "uplink central: enable.idempotence=false is not allowed; the uplink needs true"
      ])
    #expect(!config { $0.properties = ["acks": "1"] }.problems().isEmpty)
    #expect(config { $0.properties = ["acks": "all", "socket.keepalive.enable": "true"] }.problems().isEmpty)
  }

  @Test func remoteTopicNamesMustSuitKafka() {
    #expect(
      config { $0.uplink.topicTemplate = "edge/{topic}" }.problems().map(\.message) == [
        "uplink central: remote topic for telemetry: topic name 'edge/telemetry' may contain only letters, digits, '.', '_' and '-'",
        "uplink central: remote topic for alerts: topic name 'edge/alerts' may contain only letters, digits, '.', '_' and '-'",
      ])
    // A template that cannot be rendered is one problem, however many topics use it.
    #expect(
      config { $0.uplink.topicTemplate = "{nope}" }.problems() == [
        ConfigIssue("topic template '{nope}' uses {nope}; the placeholders are {gateway} and {topic}")
      ])
  }

  @Test func theUplinkThrowsItsProblemsAsBefore() throws {
    let dir = TempDirectory()
    let store = try openTestStore(dir, topics: ["telemetry": 1, "alerts": 1])
    #expect(throws: UplinkError(.configuration, "uplink central: bootstrap servers are empty")) {
      _ = try KafkaUplink(config: config { $0.bootstrapServers = "" }, store: store)
    }
    #expect(
      throws: UplinkError(
        .configuration, "uplink central: commit interval must be positive; uplink central: bootstrap servers are empty")
    ) {
      _ = try KafkaUplink(
        config: config {
          $0.bootstrapServers = ""
          $0.uplink.commitIntervalMs = 0
        }, store: store)
    }
    try store.close()
  }

  @Test func unknownLocalTopicIsAConfigurationError() throws {
    let dir = TempDirectory()
    let store = try openTestStore(dir, topics: ["telemetry": 1])
    do {
      _ = try KafkaUplink(config: config { _ in }, store: store)
      Issue.record("alerts does not exist locally")
    } catch {
      #expect(error.code == .configuration)
      #expect(error.message.contains("alerts"))
    }
    try store.close()
  }
}

/// The one back-off every module uses (sources, uplinks, the supervisor).
@Suite struct BackoffTests {
  @Test func boundsDoubleToTheMaximumWithoutOverflow() {
    let b = Backoff(initialMs: 100, maxMs: 1000, jitter: 0)
    #expect((0...6).map { b.boundMs(failures: $0) } == [0, 100, 200, 400, 800, 1000, 1000])
    #expect(b.delayMs(failures: Int.max, random: 0.5) == 1000)
    let huge = Backoff(initialMs: Int.max / 3, maxMs: Int.max, jitter: 1)
    #expect(huge.delayMs(failures: 64, random: 0) == Int.max)
    #expect(huge.delayMs(failures: 64, random: 0.999_999) >= 1)
    let inverted = Backoff(initialMs: 0, maxMs: -5)
    #expect(inverted.boundMs(failures: 3) == 1)
  }

  @Test func jitterShortensEachDelayByUpToItsFraction() {
    let b = Backoff(initialMs: 1000, maxMs: 1000, jitter: 0.5)
    #expect(b.delayMs(failures: 1, random: 0) == 1000)
    #expect(b.delayMs(failures: 1, random: 0.5) == 750)
    #expect((500...501).contains(b.delayMs(failures: 1, random: 0.999)))
    #expect(Backoff(initialMs: 10, maxMs: 10, jitter: 7).delayMs(failures: 1, random: 0.9) == 1)
  }

  @Test func statefulUseCountsAndResets() {
    var b = Backoff(initialMs: 10, maxMs: 100, jitter: 0)
    let delays = (0..<3).map { _ in b.nextDelayMs() }
    #expect(delays == [10, 20, 40])
    #expect(b.failures == 3)
    b.reset()
    #expect(b.nextDelayMs() == 10)
  }
}
