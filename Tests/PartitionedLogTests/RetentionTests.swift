import Foundation
import Testing
import WeirCore

@testable import PartitionedLog

@Suite struct RetentionTests {
  static let day: Int64 = 86_400_000
  static let now: Int64 = 1_800_000_000_000
  /// Retention runs only when a test calls it.
  static let options = LogOptions(minFreeBytes: 0, retentionCheckMs: 3_600_000)

  func small(_ change: (inout TopicConfig) -> Void = { _ in }) -> TopicConfig {
    var c = TopicConfig(fsync: .never, segmentBytes: 4096, maxAgeMs: nil, indexIntervalBytes: 512)
    change(&c)
    return c
  }

  func records(_ range: Range<Int>, at timestamp: Int64) -> [TestRecord] {
    range.map { TestRecord.sample($0, baseTimestamp: timestamp) }
  }

  @Test func byAgeDeletesOldSegmentsAndRollsAnExpiredActiveOne() throws {
    let dir = TempDirectory()
    let clock = ManualWallClock(Self.now)
    let store = try LogStore.open(directory: dir.path, options: Self.options, clock: clock)
    let p = try store.createTopic("t", config: small { $0.maxAgeMs = 7 * Self.day }).partitions[0]
    try p.appendAll(records(0..<200, at: Self.now - 10 * Self.day))
    try p.appendAll(records(200..<400, at: Self.now - 1 * Self.day))
    store.runRetention()
    let start = p.logStartOffset
    #expect(start > 0 && start <= 200)
    #expect(throws: LogError.self) { try PartitionReader(partition: p).read(from: 0) }
    #expect(try p.readAll(from: start).count == 400 - Int(start))
    // Everything expires: the active segment is rolled and deleted; offsets are never reused.
    clock.advance(milliseconds: 30 * Self.day)
    store.runRetention()
    #expect(p.logStartOffset == 400)
    #expect(p.state.segments == 1)
    #expect(try p.appendAll(records(0..<1, at: clock.nowMilliseconds()))[0].baseOffset == 400)
    #expect(store.retentionTotals.recordsDeleted == 400)
    try store.close()
    let again = try LogStore.open(directory: dir.path, options: Self.options, clock: clock)
    #expect(again.partition("t", 0)!.logStartOffset == 400)
    try again.close()
  }

  @Test func bySizeKeepsTheTopicUnderItsLimit() throws {
    let dir = TempDirectory()
    let store = try LogStore.open(directory: dir.path, options: Self.options)
    let topic = try store.createTopic(
      "t",
      config: small {
        $0.maxBytes = 2 * 20_000
        $0.partitions = 2
      })
    for p in topic.partitions { try p.appendAll(records(0..<1000, at: TestRecord.recent)) }
    store.runRetention()
    for p in topic.partitions {
      #expect(p.state.sizeBytes <= 20_000)
      #expect(p.logStartOffset > 0)
      #expect(try p.readAll(from: p.logStartOffset).last?.0 == 999)
    }
    try store.close()
  }

  @Test func diskBudgetEvictsLowPriorityTopicsFirstAndCountsUnreadRecords() throws {
    let dir = TempDirectory()
    var options = Self.options
    options.diskBudgetBytes = 60_000
    let store = try LogStore.open(directory: dir.path, options: options)
    let telemetry = try store.createTopic("telemetry", config: small { $0.evictionPriority = 0 }).partitions[0]
    let alerts = try store.createTopic("alerts", config: small { $0.evictionPriority = 10 }).partitions[0]
    try store.metadata.commit(cursor: "uplink", [("telemetry", 0, 5)], now: 0)
    try alerts.appendAll(records(0..<150, at: TestRecord.recent))
    try telemetry.appendAll(records(0..<600, at: TestRecord.recent))
    let alertsBefore = alerts.state
    store.runRetention()
    #expect(store.totalBytes <= 60_000)
    #expect(alerts.state == alertsBefore)
    #expect(telemetry.logStartOffset > 0)
    let totals = store.retentionTotals
    #expect(totals.recordsDeleted == telemetry.logStartOffset)
    #expect(totals.unreadByCursor["uplink"] == telemetry.logStartOffset - 5)
    try store.close()
  }

  @Test func rejectNewBackPressuresUntilSpaceReturns() throws {
    let dir = TempDirectory()
    let clock = ManualWallClock(Self.now)
    let store = try LogStore.open(directory: dir.path, options: Self.options, clock: clock)
    let p = try store.createTopic(
      "t",
      config: small {
        $0.onFull = .rejectNew
        $0.maxBytes = 12_000
        $0.maxAgeMs = Self.day
      }
    ).partitions[0]
    var appended = 0
    var rejection: LogError?
    while rejection == nil && appended < 10_000 {
      do {
        try p.appendAll(records(appended..<appended + 10, at: clock.nowMilliseconds()))
        appended += 10
      } catch let e as LogError {
        rejection = e
      }
    }
    #expect(rejection?.code == .full)
    #expect(rejection?.message.contains("limit") == true)
    #expect(p.state.logEndOffset == Int64(appended))
    // Size alone never deletes a reject_new topic's records...
    store.runRetention()
    #expect(p.logStartOffset == 0)
    // ...but once they age out, appends are accepted again.
    clock.advance(milliseconds: 2 * Self.day)
    store.runRetention()
    #expect(try p.appendAll(records(0..<10, at: clock.nowMilliseconds()))[0].baseOffset == Int64(appended))
    try store.close()
  }

  @Test func freeSpaceReserveRejectsOrDrops() throws {
    let dir = TempDirectory()
    var options = Self.options
    options.minFreeBytes = Int64(1) << 60  // more than any disk: always under pressure
    let store = try LogStore.open(directory: dir.path, options: options)
    let strict = try store.createTopic("strict", config: small { $0.onFull = .rejectNew }).partitions[0]
    #expect(throws: LogError.self) { try strict.appendAll(records(0..<1, at: TestRecord.recent)) }
    let bulk = try store.createTopic("bulk", config: small()).partitions[0]
    try bulk.appendAll(records(0..<500, at: TestRecord.recent))
    store.runRetention()
    #expect(bulk.state.segments == 1)
    #expect(bulk.logStartOffset > 0)
    try store.close()
  }
}
