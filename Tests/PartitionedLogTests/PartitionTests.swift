import Foundation
import Synchronization
import Testing
import WeirCore

@testable import PartitionedLog

@Suite struct PartitionTests {
  static let small = TopicConfig(
    partitions: 1, fsync: .never, segmentBytes: 8 * 1024, maxAgeMs: nil, indexIntervalBytes: 512)

  @Test(arguments: [FsyncPolicy.always, .interval(milliseconds: 5, bytes: 1 << 20), .never])
  func roundTripAcrossSegmentRolls(_ fsync: FsyncPolicy) throws {
    let dir = TempDirectory()
    let store = try LogStore.open(directory: dir.path)
    var config = Self.small
    config.fsync = fsync
    let p = try store.createTopic("telemetry", config: config).partitions[0]
    let records = (0..<2000).map { TestRecord.sample($0) }
    let results = try p.appendAll(records, batchSize: 7)
    #expect(results.first?.baseOffset == 0)
    #expect(results.last?.lastOffset == 1999)
    for (a, b) in zip(results, results.dropFirst()) { #expect(b.baseOffset == a.lastOffset + 1) }
    try p.flush()
    #expect(p.state.segments > 10)
    let read = try p.readAll()
    #expect(read.map(\.0) == (0..<2000).map(Int64.init))
    #expect(read.map(\.1) == records)
    try store.close()

    // Reopened, the same records come back, and offsets continue.
    let again = try LogStore.open(directory: dir.path)
    #expect(!again.recoveredFromUncleanStop)
    let q = again.partition("telemetry", 0)!
    #expect(try q.readAll().map(\.1) == records)
    let next = try q.appendAll([TestRecord.sample(2000)])
    #expect(next[0].baseOffset == 2000)
    try again.close()
  }

  @Test func readsFromEveryPosition() throws {
    let dir = TempDirectory()
    let store = try LogStore.open(directory: dir.path)
    let p = try store.createTopic("t", config: Self.small).partitions[0]
    let records = (0..<600).map { TestRecord.sample($0) }
    try p.appendAll(records, batchSize: 5)
    try p.flush()
    let reader = PartitionReader(partition: p)
    for offset in 0..<600 {
      let result = try reader.read(from: Int64(offset), maxBytes: 1)
      var first: RecordView?
      result.forEachRecord { r in if first == nil { first = r } }
      #expect(first?.offset == Int64(offset))
      #expect(first.map(TestRecord.init) == records[offset])
      // The batch-aligned result starts with the batch that holds the offset.
      var scanner = BatchScanner(result.bytes)
      let batch = scanner.next()
      #expect(batch.map { $0.baseOffset <= Int64(offset) && $0.lastOffset >= Int64(offset) } == true)
    }
    #expect(try reader.read(from: 600).isEmpty)
    #expect(throws: LogError.self) { try reader.read(from: 601) }
    try store.close()
  }

  @Test func readsAreBoundedAndBatchAligned() throws {
    let dir = TempDirectory()
    let store = try LogStore.open(directory: dir.path)
    let p = try store.createTopic("t", config: TopicConfig(fsync: .never)).partitions[0]
    try p.appendAll((0..<1000).map { TestRecord.sample($0) }, batchSize: 10)
    let reader = PartitionReader(partition: p)
    let result = try reader.read(from: 0, maxBytes: 3000)
    var scanner = BatchScanner(result.bytes)
    var batches = 0
    var expectedBase: Int64 = 0
    while let batch = scanner.next() {
      #expect(batch.baseOffset == expectedBase)
      #expect(batch.validate() == nil)
      expectedBase = batch.nextOffset
      batches += 1
    }
    #expect(scanner.remaining == 0)
    #expect(result.bytes.count >= 3000 && result.bytes.count < 3000 + 1000)
    #expect(result.nextOffset == expectedBase)
    // A single batch larger than maxBytes still comes back whole.
    let big = RecordBatchBuilder()
    for i in 0..<200 { big.append(TestRecord.sample(i)) }
    let r = try p.append(big)
    let one = try reader.read(from: r.baseOffset, maxBytes: 10)
    #expect(one.nextOffset == r.lastOffset + 1)
    try store.close()
  }

  @Test func indexLookupsMatchALinearScan() throws {
    let dir = TempDirectory()
    let store = try LogStore.open(directory: dir.path)
    var config = Self.small
    config.segmentBytes = 64 * 1024
    let p = try store.createTopic("t", config: config).partitions[0]
    var rng = Xorshift(seed: 42)
    var offset = 0
    while offset < 3000 {
      let n = Int(rng.next() % 20) + 1
      try p.appendAll((offset..<offset + n).map { TestRecord.sample($0) }, batchSize: n)
      offset += n
    }
    // Linear scan: every batch's position in every segment.
    let segments = p.lock.withLock { p.segments }
    for segment in segments {
      var positions: [(Int64, Int64, Int64)] = []  // base, last, position
      _ = try segment.scan(from: 0, to: segment.size, expectedOffset: segment.baseOffset, buffer: ByteBuffer()) {
        batch, position in
        positions.append((batch.baseOffset, batch.lastOffset, position))
        return true
      }
      #expect(segment.offsetIndex.count > 0)
      for (base, last, position) in positions {
        for target in [base, last] {
          let start = segment.startPosition(for: target)
          // The index never points past the batch holding the target, and always at a batch start.
          #expect(start <= position)
          #expect(positions.contains { $0.2 == start } || start == 0)
        }
      }
    }
    try store.close()
  }

  @Test func timestampLookupsMatchALinearScan() throws {
    let dir = TempDirectory()
    let store = try LogStore.open(directory: dir.path)
    let p = try store.createTopic("t", config: Self.small).partitions[0]
    var rng = Xorshift(seed: 7)
    // Timestamps mostly rising with some out of order, as devices send them.
    var records: [TestRecord] = []
    for i in 0..<1500 {
      var r = TestRecord.sample(i)
      r.timestamp = 1_000_000 + Int64(i) * 100 + Int64(rng.next() % 500) - 250
      records.append(r)
    }
    try p.appendAll(records, batchSize: 9)
    for target in stride(from: Int64(999_000), through: 1_160_000, by: 777) {
      let expected = records.firstIndex { $0.timestamp >= target }.map(Int64.init)
      #expect(try p.offset(forTimestamp: target) == expected, "target \(target)")
    }
    try store.close()
  }

  @Test func concurrentAppendsShareWritesAndFsyncs() throws {
    let dir = TempDirectory()
    let store = try LogStore.open(directory: dir.path)
    let p = try store.createTopic("t", config: TopicConfig(fsync: .always)).partitions[0]
    let threads = 8
    let perThread = 200
    let results = Mutex<[AppendResult]>([])
    // Real threads (concurrentPerform would run only as many as there are cores).
    let done = DispatchSemaphore(value: 0)
    for t in 0..<threads {
      Thread {
        let builder = RecordBatchBuilder()
        for i in 0..<perThread {
          builder.reset()
          builder.append(TestRecord.sample(t * 1000 + i))
          builder.append(TestRecord.sample(t * 1000 + i + 1))
          let r = try! p.append(builder)
          results.withLock { $0.append(r) }
        }
        done.signal()
      }.start()
    }
    for _ in 0..<threads { done.wait() }
    let all = results.withLock { $0 }.sorted { $0.baseOffset < $1.baseOffset }
    #expect(all.count == threads * perThread)
    for (i, r) in all.enumerated() {
      #expect(r.baseOffset == Int64(i * 2) && r.lastOffset == Int64(i * 2 + 1))
    }
    #expect(p.highWatermark == Int64(threads * perThread * 2))
    // Group commit: fewer fsyncs than appends (each append waited for its own durability).
    #expect(p.syncCount < threads * perThread)
    #expect(try p.readAll().count == threads * perThread * 2)
    try store.close()
  }

  @Test func readersSeeOnlyTheDurablePrefix() throws {
    let dir = TempDirectory()
    let store = try LogStore.open(directory: dir.path)
    let p = try store.createTopic("t", config: TopicConfig(fsync: .interval(milliseconds: 60_000, bytes: 1 << 30)))
      .partitions[0]
    try p.appendAll((0..<10).map { TestRecord.sample($0) })
    #expect(p.state.logEndOffset == 10)
    #expect(p.highWatermark == 0)
    #expect(try PartitionReader(partition: p).read(from: 0).isEmpty)
    try p.flush()
    #expect(p.highWatermark == 10)
    #expect(try p.readAll().count == 10)
    try store.close()
  }

  @Test func waitersWakeWhenTheHighWatermarkMoves() async throws {
    let dir = TempDirectory()
    let store = try LogStore.open(directory: dir.path)
    let p = try store.createTopic("t", config: TopicConfig(fsync: .interval(milliseconds: 2, bytes: 1 << 20)))
      .partitions[0]
    // An async waiter per partition, and a thread waiting on the whole store.
    let reader = Task {
      var seen: [Int64] = []
      let r = PartitionReader(partition: p)
      while seen.count < 50 {
        await p.waitForData(after: (seen.last ?? -1))
        try r.read(from: (seen.last ?? -1) + 1).forEachRecord { seen.append($0.offset) }
      }
      return seen
    }
    let before = store.dataGeneration
    let idle = store.waitForData(after: before, timeoutNs: 20_000_000)
    #expect(idle == before)
    let waiter = Thread.detachedWait(store, after: before)
    for i in 0..<5 {
      try await p.append(batch((i * 10..<i * 10 + 10).map { TestRecord.sample($0) }))
      try await Task.sleep(for: .milliseconds(5))
    }
    #expect(try await reader.value == (0..<50).map(Int64.init))
    #expect(await waiter.value > before)
    try store.close()
  }

  @Test func appendRejectsEmptyAndOversizedBatches() throws {
    let dir = TempDirectory()
    let store = try LogStore.open(directory: dir.path, options: LogOptions(maxBatchBytes: 10_000))
    let p = try store.createTopic("t").partitions[0]
    #expect(throws: LogError.self) { try p.append(RecordBatchBuilder()) }
    let big = RecordBatchBuilder()
    big.append(timestamp: 0, key: nil, value: [UInt8](repeating: 1, count: 20_000))
    #expect(throws: LogError.self) { try p.append(big) }
    #expect(p.state.logEndOffset == 0)
    try store.close()
  }

  @Test func topicNamesAndConfigAreValidated() throws {
    let dir = TempDirectory()
    let store = try LogStore.open(directory: dir.path)
    #expect(throws: LogError.self) { try store.createTopic("bad/name") }
    #expect(throws: LogError.self) { try store.createTopic("ok", config: TopicConfig(partitions: 0)) }
    try store.createTopic("ok", config: TopicConfig(partitions: 3))
    #expect(throws: LogError.self) { try store.createTopic("ok", config: TopicConfig(partitions: 2)) }
    #expect(try store.createTopic("ok", config: TopicConfig(partitions: 4)).partitions.count == 4)
    try store.close()
    let again = try LogStore.open(directory: dir.path)
    #expect(again.topic("ok")?.partitions.count == 4)
    try again.close()
  }
}

func batch(_ records: [TestRecord]) -> RecordBatchBuilder {
  let b = RecordBatchBuilder()
  for r in records { b.append(r) }
  return b
}

/// A small deterministic generator for test data.
struct Xorshift {
  var state: UInt64
  init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }
  mutating func next() -> UInt64 {
    state ^= state << 13
    state ^= state >> 7
    state ^= state << 17
    return state
  }
}

extension Thread {
  /// Waits on the store from a thread of its own (never from the cooperative pool).
  static func detachedWait(_ store: LogStore, after generation: UInt64) -> Task<UInt64, Never> {
    Task {
      await withCheckedContinuation { (c: CheckedContinuation<UInt64, Never>) in
        Thread { c.resume(returning: store.waitForData(after: generation, timeoutNs: 10_000_000_000)) }.start()
      }
    }
  }
}
