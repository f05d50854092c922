import Foundation
import Logging
import PartitionedLog
import Prometheus
import Testing

@testable import Gateway

/// The records endpoint's query (`limit`, `offsets`, `from`) and the alerts endpoint's `limit`:
/// every query string is a query or a 400 with a message, and `Daemon.records` answers any
/// offsets without trapping.
@Suite struct RecordsQueryTests {
  typealias Parsed = (query: String?, limit: Int, offsets: [Int32: Int64], fromBeginning: Bool)

  static let acceptedQueries: [Parsed] = [
    (nil, 100, [:], false), ("", 100, [:], false), ("limit=5", 5, [:], false),
    ("limit=0", 1, [:], false), ("limit=-7", 1, [:], false), ("limit=20000", 10_000, [:], false),
    ("limit=99999999999999999999999", 10_000, [:], false), ("limit=-99999999999999999999999", 1, [:], false),
    ("limit=+5", 5, [:], false), ("from=beginning", 100, [:], true), ("limit=5&from=beginning", 5, [:], true),
    ("offsets=0:120,1:98", 100, [0: 120, 1: 98], false),
    ("offsets=0%3A120%2C1%3a98&limit=20", 20, [0: 120, 1: 98], false),
    ("offsets=", 100, [:], false), ("offsets=0:1,,1:2,", 100, [0: 1, 1: 2], false),
    ("offsets=2147483647:9223372036854775807", 100, [Int32.max: Int64.max], false),
    ("x=1&y&&=&limit=3&from%3D=z", 3, [:], false), ("%6Cimit=7", 7, [:], false),
  ]

  @Test(arguments: Self.acceptedQueries.indices)
  func accepted(_ i: Int) throws {
    let c = Self.acceptedQueries[i]
    #expect(
      try RecordsQuery(query: c.query)
        == RecordsQuery(limit: c.limit, offsets: c.offsets, fromBeginning: c.fromBeginning))
  }

  static let manyPairs = "offsets=" + (0...RecordsQuery.maxOffsetPairs).map { "\($0):0" }.joined(separator: ",")

  static let refusedQueries: [(query: String, message: String)] = [
    ("limit=abc", "limit: expected a whole number (1 to 10000), got 'abc'"),
    ("limit=", "limit: expected a whole number"),
    ("limit=1.5", "limit: expected a whole number"), ("limit=1&limit=2", "limit: given more than once"),
    ("limit=0x10", "limit: expected a whole number"), ("from=end", "from: expected 'beginning', got 'end'"),
    ("from=", "from: expected 'beginning'"), ("from=beginning&from=beginning", "from: given more than once"),
    ("offsets=-1:5", "whole numbers from 0"), ("offsets=0:-5", "whole numbers from 0"),
    ("offsets=0", "expected partition:offset"), ("offsets=0:1:2", "expected partition:offset"),
    ("offsets=a:b", "expected partition:offset"), ("offsets=:5", "expected partition:offset"),
    ("offsets=2147483648:0", "partition 2147483648 is past the largest, 2147483647"),
    ("offsets=0:9223372036854775808", "offset 9223372036854775808 is past the largest, 9223372036854775807"),
    ("offsets=0:1,0:2", "partition 0 is given more than once"), (Self.manyPairs, "more than 10000 partitions"),
    ("offsets=%zz", "malformed percent-encoding"), ("offsets=%4", "malformed percent-encoding"),
    ("limit=%", "malformed percent-encoding"), ("limit=%FF", "not UTF-8"),
    (String(repeating: "a", count: RecordsQuery.maxQueryBytes + 1), "the query is 262145 bytes"),
  ]

  @Test(arguments: Self.refusedQueries.indices)
  func refused(_ i: Int) {
    let (query, message) = Self.refusedQueries[i]
    do {
      let q = try RecordsQuery(query: query)
      Issue.record("accepted as \(q)")
    } catch {
      #expect(error.message.contains(message), "\(error.message)")
    }
  }

  @Test(arguments: [
    (String?.none, 50), ("limit=600", 500), ("limit=0", 1), ("limit=20", 20), ("offsets=zz&limit=3", 3),
  ])
  func alertsLimits(_ query: String?, _ limit: Int) throws {
    #expect(try RecordsQuery.alertsLimit(query: query, maximum: 500) == limit)
  }

  @Test func alertsRefuseWhatIsNotANumber() {
    #expect(throws: QueryError.self) { try RecordsQuery.alertsLimit(query: "limit=many", maximum: 500) }
  }

  // MARK: Daemon.records on a real log

  /// A daemon on a fresh log with topic `t` (2 partitions): partition 0 has had its oldest
  /// records deleted by retention, so its log start is past 0.
  final class Log: @unchecked Sendable {
    let directory = NSTemporaryDirectory() + "weir-records-\(UUID().uuidString)"
    let daemon: Daemon

    init() throws {
      let yaml = """
        gateway: {id: t, data_dir: "\(directory)"}
        topics:
          t: {partitions: 2, fsync: always, segment_bytes: 1KiB, max_age: 1h}
        """
      daemon = try Daemon(
        config: try GatewayConfig.parse(yaml, file: directory + "/w.yaml"), registry: PrometheusCollectorRegistry(),
        logger: Logger(label: "test"))
      let topic = try #require(daemon.store.topic("t"))
      let now = Int64(Date().timeIntervalSince1970 * 1000)
      let b = RecordBatchBuilder()
      for (p, count) in [(0, 60), (1, 5)] {
        for i in 0..<count {
          b.reset()
          // Partition 0's first 40 records are a day old: retention deletes their segments.
          let ts = p == 0 && i < 40 ? now - 86_400_000 : now + Int64(i)
          b.append(
            timestamp: ts, key: Array("k".utf8),
            value: Array("{\"p\":\(p),\"i\":\(i),\"pad\":\"\(String(repeating: "x", count: 80))\"}".utf8))
          _ = try topic.partitions[p].append(b)
        }
      }
      daemon.store.runRetention()
    }

    var start: Int64 { daemon.store.topic("t")!.partitions[0].logStartOffset }
    var end: Int64 { daemon.store.topic("t")!.partitions[0].highWatermark }

    func records(_ offsets: [Int32: Int64], fromBeginning: Bool = false, limit: Int = 100) throws -> RecordsResponse {
      try #require(daemon.records(topic: "t", offsets: offsets, fromBeginning: fromBeginning, limit: limit))
    }

    deinit {
      try? daemon.store.close()
      try? FileManager.default.removeItem(atPath: directory)
    }
  }

  @Test func anyOffsetsAreAnswered() throws {
    let log = try Log()
    #expect(log.start > 0 && log.start < log.end, "retention left \(log.start)..<\(log.end)")
    for (asked, first) in [
      (Int64.max, nil), (Int64.min, log.start), (-5, log.start), (0, log.start), (log.end, nil),
      (log.end - 1, log.end - 1),
    ] {
      let r = try log.records([0: asked])
      #expect(r.records.filter { $0.partition == 0 }.first?.offset == first, "offset \(asked)")
      let next = try #require(r.next.first { $0.partition == 0 })
      #expect(next.offset >= log.start && next.offset <= log.end, "next \(next.offset) for \(asked)")
    }
  }

  @Test func unknownPartitionsAreIgnored() throws {
    let log = try Log()
    let r = try log.records([99: 5, -1: 3, Int32.max: Int64.max])
    #expect(Set(r.next.map(\.partition)) == [0, 1])
    #expect(r.records.contains { $0.partition == 1 })
  }

  @Test(arguments: [0, -1, Int.min, Int.max, 1, 3])
  func limitsAreClamped(_ limit: Int) throws {
    let log = try Log()
    let r = try log.records([:], fromBeginning: true, limit: limit)
    let clamped = min(max(limit, 1), RecordsQuery.maxLimit)
    #expect(r.records.count <= clamped && !r.records.isEmpty)
    if clamped == 3 { #expect(r.records.count == 2, "one from each partition: 3 / 2 partitions") }
  }

  @Test func followingNextReadsEveryRecordOnce() throws {
    let log = try Log()
    var offsets: [Int32: Int64] = [0: 0, 1: 0]
    var seen: [String] = []
    for _ in 0..<100 {
      let r = try log.records(offsets, limit: 4)
      if r.records.isEmpty { break }
      seen += r.records.map { "\($0.partition):\($0.offset)" }
      for n in r.next { offsets[n.partition] = n.offset }
    }
    #expect(seen.count == Set(seen).count)
    #expect(seen.count == Int(log.end - log.start) + 5)
  }

  @Test(arguments: [("wait=5", 5), ("wait=0", 0), ("wait=-3", 0), ("wait=31", 30), ("wait=99999999999999999999", 30)])
  func waitsAreClamped(_ query: String, _ seconds: Int) throws {
    #expect(try RecordsQuery(query: query).waitSeconds == seconds)
  }

  @Test func aWaitThatIsNotANumberIsRefused() {
    #expect(throws: QueryError("wait: expected a whole number of seconds (0 to 30), got '1s'")) {
      try RecordsQuery(query: "wait=1s")
    }
  }

  /// The long poll of `weir tail --follow`: an empty page waits for the next record, and no
  /// longer than the deadline when none comes.
  @Test func theLongPollEndsWhenARecordArrives() async throws {
    let log = try Log()
    let next = try log.records([0: log.end, 1: 5]).next
    let t0 = ContinuousClock.now
    await log.daemon.awaitRecords(topic: "t", after: next, seconds: 1)
    let waited = ContinuousClock.now - t0
    #expect(waited >= .milliseconds(900), "no record came, so it waited the whole second (\(waited))")
    let partition = try #require(log.daemon.store.topic("t")).partitions[1]
    let appender = Task {
      try await Task.sleep(for: .milliseconds(200))
      let b = RecordBatchBuilder()
      b.append(timestamp: Int64(Date().timeIntervalSince1970 * 1000), key: nil, value: Array("{}".utf8))
      _ = try await partition.append(b)
    }
    let t1 = ContinuousClock.now
    await log.daemon.awaitRecords(topic: "t", after: next, seconds: 20)
    #expect(ContinuousClock.now - t1 < .seconds(10))
    try await appender.value
    let page = try log.records(Dictionary(uniqueKeysWithValues: next.map { ($0.partition, $0.offset) }))
    #expect(page.records.map(\.offset) == [5] && page.records.first?.partition == 1)
  }

  @Test func anUnknownTopicIsNil() throws {
    let log = try Log()
    #expect(log.daemon.records(topic: "nope", offsets: [:], fromBeginning: false, limit: 10) == nil)
  }
}
