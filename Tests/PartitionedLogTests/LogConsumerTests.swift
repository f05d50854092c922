import Foundation
import Synchronization
import Testing

@testable import PartitionedLog

/// The one consumer type: its cursor (first position written at once, clamped, moved only where it
/// moved), reading with skips, the checkpoint in the cursor's transaction, and the waits.
@Suite struct LogConsumerTests {
  @Test func aNewCursorStartsWhereAskedAndIsWrittenAtOnce() throws {
    let dir = TempDirectory()
    let store = try LogStore.open(directory: dir.path)
    let topic = try store.createTopic("t", config: TopicConfig(partitions: 2))
    try topic.partitions[0].appendAll((0..<10).map { TestRecord.sample($0) })
    try topic.partitions[0].flush()  // the high watermark is the durable end
    let early = LogConsumer(store: store, name: "early")
    #expect(try early.add(topic: topic, startAt: .earliest, now: 1) == 0..<2)
    #expect(early.positions == [0, 0])
    #expect(early.members.allSatisfy { $0.isNew })
    let late = LogConsumer(store: store, name: "late")
    try late.add(topic: topic, startAt: .latest, now: 1)
    #expect(late.positions == [10, 0])
    // Retention counts a cursor from the moment it exists, before its first commit.
    #expect(store.metadata.cursors(topic: "t", partition: 0) == ["early": 0, "late": 10])
    // Adding a topic twice adds nothing.
    #expect(try early.add(topic: topic, startAt: .earliest, now: 2).isEmpty)
    try store.close()
  }

  @Test func readsSeeksAndCommitsOnlyWhatMoved() throws {
    let dir = TempDirectory()
    let store = try LogStore.open(directory: dir.path)
    let topic = try store.createTopic("t", config: TopicConfig(partitions: 2))
    try topic.partitions[0].appendAll((0..<10).map { TestRecord.sample($0) })
    try topic.partitions[0].flush()  // the high watermark is the durable end
    let consumer = LogConsumer(store: store, name: "c")
    try consumer.add(topic: topic, startAt: .earliest, now: 1)
    guard case .batches(let result) = try consumer.read(0) else {
      Issue.record("partition 0 has records")
      return
    }
    var seen: [Int64] = []
    result.forEachRecord { seen.append($0.offset) }
    #expect(seen == Array(0..<10))
    #expect(consumer.members[0].position == 0, "reading does not move the position")
    consumer.seek(0, to: result.nextOffset)
    guard case .caughtUp = try consumer.read(0), case .caughtUp = try consumer.read(1) else {
      Issue.record("nothing more to read")
      return
    }
    try consumer.commit(now: 2)
    #expect(consumer.members.map(\.committed) == [10, 0])
    // Offsets of its own (an uplink commits what the remote end confirmed, not what it read).
    try consumer.commit([4, 0], now: 3)
    #expect(store.metadata.cursor("c", topic: "t", partition: 0) == 4)
    try store.close()

    let again = try LogStore.open(directory: dir.path)
    let reopened = LogConsumer(store: again, name: "c")
    try reopened.add(topic: try #require(again.topic("t")), startAt: .latest, now: 4)
    #expect(reopened.positions == [4, 0], "a saved cursor wins over startAt")
    #expect(!reopened.members.contains { $0.isNew })
    try again.close()
  }

  @Test func aCursorAheadOfTheLogStartsAtTheLogEnd() throws {
    let dir = TempDirectory()
    let store = try LogStore.open(directory: dir.path)
    let topic = try store.createTopic("t")
    try topic.partitions[0].appendAll((0..<3).map { TestRecord.sample($0) })
    try topic.partitions[0].flush()  // the high watermark is the durable end
    try store.metadata.commit(cursor: "c", [("t", 0, 50)], now: 1)
    let consumer = LogConsumer(store: store, name: "c")
    try consumer.add(topic: topic, startAt: .earliest, now: 2)
    #expect(consumer.positions == [3])
    try store.close()
  }

  @Test func whatRetentionDeletedIsARangeToSkip() throws {
    let dir = TempDirectory()
    let store = try LogStore.open(directory: dir.path)
    let config = TopicConfig(segmentBytes: 4096, maxAgeMs: 3_600_000)
    let topic = try store.createTopic("t", config: config)
    let old = TestRecord.recent - 86_400_000
    try topic.partitions[0].appendAll((0..<200).map { TestRecord.sample($0, baseTimestamp: old) })
    try topic.partitions[0].appendAll((200..<210).map { TestRecord.sample($0) })
    try topic.partitions[0].flush()
    let consumer = LogConsumer(store: store, name: "c")
    try consumer.add(topic: topic, startAt: .earliest, now: 1)
    store.runRetention()
    let start = topic.partitions[0].logStartOffset
    #expect(start > 0)
    guard case .skip(0, let to, .retention) = try consumer.read(0) else {
      Issue.record("expected a retention skip")
      return
    }
    #expect(to == start)
    try store.close()
  }

  @Test func aCheckpointAndTheCursorMoveTogether() throws {
    let dir = TempDirectory()
    let store = try LogStore.open(directory: dir.path)
    let topic = try store.createTopic("t")
    try topic.partitions[0].appendAll((0..<5).map { TestRecord.sample($0) })
    try topic.partitions[0].flush()  // the high watermark is the durable end
    let consumer = LogConsumer(store: store, name: "rules")
    try consumer.add(topic: topic, startAt: .earliest, now: 1)
    consumer.seek(0, to: 5)
    try consumer.commit(checkpoint: "rules", [9, 9], now: 2)
    #expect(try store.metadata.loadCheckpoint("rules") == [9, 9])
    #expect(store.metadata.cursor("rules", topic: "t", partition: 0) == 5)
    #expect(consumer.members[0].committed == 5)
    try store.close()
  }

  @Test func aConsumerWithoutANameNeverWritesACursor() throws {
    let dir = TempDirectory()
    let store = try LogStore.open(directory: dir.path)
    let topic = try store.createTopic("t")
    try topic.partitions[0].appendAll((0..<5).map { TestRecord.sample($0) })
    try topic.partitions[0].flush()  // the high watermark is the durable end
    let tail = LogConsumer(store: store, name: nil)
    tail.add(topic: topic) { _ in -7 }
    #expect(tail.positions == [0], "clamped into the log")
    tail.seek(0, to: 5)
    try tail.commit(now: 1)
    try tail.commit(checkpoint: "x", [1], now: 1)
    #expect(try store.metadata.allCursors().isEmpty)
    #expect(try store.metadata.loadCheckpoint("x") == nil)
    try store.close()
  }

  @Test func waitsEndWhenRecordsArrive() async throws {
    let dir = TempDirectory()
    let store = try LogStore.open(directory: dir.path)
    let topic = try store.createTopic("t")
    let consumer = LogConsumer(store: store, name: "c")
    try consumer.add(topic: topic, startAt: .earliest, now: 1)
    // Nothing arrives: the long poll returns at its deadline.
    let t0 = ContinuousClock.now
    await LogConsumer.awaitData([(topic.partitions[0], 0)], timeoutNs: 300_000_000)
    #expect(ContinuousClock.now - t0 >= .milliseconds(250))

    let woken = WakeCounter()
    let partitions = consumer.partitions
    let watcher = Task { await LogConsumer.watch(partitions) { woken.increment() } }
    let generation = consumer.generation
    let partition = topic.partitions[0]
    let appender = Task.detached {
      try await Task.sleep(for: .milliseconds(100))
      try partition.appendAll([TestRecord.sample(0)])
      try partition.flush()
    }
    // The blocking wait, as a consumer's own thread does it (here briefly, off the test's task).
    nonisolated(unsafe) let blocking = consumer  // used by the detached task alone until it returns
    let after = await Task.detached { blocking.waitForData(after: generation, timeoutNs: 10_000_000_000) }.value
    #expect(after > generation)
    try await appender.value
    await LogConsumer.awaitData([(partition, 0)], timeoutNs: 10_000_000_000)
    let deadline = ContinuousClock.now + .seconds(10)
    while woken.value == 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
    #expect(woken.value >= 1)
    watcher.cancel()
    await watcher.value
    try store.close()
  }
}

/// Counts wake-ups from the watcher's tasks.
private final class WakeCounter: Sendable {
  private let count = Mutex(0)
  func increment() { count.withLock { $0 += 1 } }
  var value: Int { count.withLock { $0 } }
}
