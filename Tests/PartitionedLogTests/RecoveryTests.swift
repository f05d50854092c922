import Foundation
import Testing

@testable import PartitionedLog

/// Each kind of damage an unclean stop or a bad disk leaves, and what reopening does about it.
@Suite struct RecoveryTests {
  static let config = TopicConfig(fsync: .always, segmentBytes: 16 * 1024, maxAgeMs: nil, indexIntervalBytes: 256)
  /// Recovery points saved only at open, so recovery scans the whole active segment.
  static let options = LogOptions(minFreeBytes: 0, recoveryPointSaveMs: 3_600_000)

  /// Writes `count` records, then abandons the store as `kill -9` would.
  func crashedLog(_ dir: TempDirectory, count: Int = 300) throws -> (records: [TestRecord], activeLog: String, epoch: Int32) {
    let store = try LogStore.open(directory: dir.path, options: Self.options)
    let p = try store.createTopic("t", config: Self.config).partitions[0]
    let records = (0..<count).map { TestRecord.sample($0) }
    try p.appendAll(records, batchSize: 3)
    let active = p.lock.withLock { p.active.logPath }
    let epoch = store.epoch
    store.abandonForTesting()
    return (records, active, epoch)
  }

  func reopen(_ dir: TempDirectory) throws -> (LogStore, Partition) {
    let store = try LogStore.open(directory: dir.path, options: Self.options)
    return (store, store.partition("t", 0)!)
  }

  @Test func cleanCrashLosesNothingAndBumpsTheEpoch() throws {
    let dir = TempDirectory()
    let (records, _, epoch) = try crashedLog(dir)
    let (store, p) = try reopen(dir)
    #expect(store.recoveredFromUncleanStop)
    #expect(store.epoch == epoch + 1)
    #expect(store.recoveryEvents.isEmpty)
    #expect(try p.readAll().map(\.1) == records)
    // New batches carry the new epoch.
    try p.appendAll([TestRecord.sample(999)])
    try p.flush()
    var epochs: [Int32] = []
    try SegmentFiles(dataDirectory: dir.path).forEachBatch(topic: "t", partition: 0, from: 0) { b in
      epochs.append(b.epoch)
      return true
    }
    #expect(epochs.first == epoch)
    #expect(epochs.last == epoch + 1)
    try store.close()
    #expect(try LogVerifier.verify(dataDirectory: dir.path).problems.isEmpty)
  }

  enum Damage: String, CaseIterable {
    case halfWrittenBatch, flippedBit, zeroFilledTail, truncatedIndex, garbageIndex, truncatedTimeIndex
  }

  @Test(arguments: Damage.allCases)
  func damagedTailIsTruncatedAndRebuilt(_ damage: Damage) throws {
    let dir = TempDirectory()
    let (records, activeLog, epoch) = try crashedLog(dir)
    var bytes = fileBytes(activeLog)
    let batchSize = bytes.count > 0 ? batchSizes(bytes).last! : 0
    var expectedRecords = records
    switch damage {
    case .halfWrittenBatch:
      let lastBatch = Array(bytes[(bytes.count - batchSize)...])
      bytes += lastBatch[0..<(batchSize / 2)]
    case .flippedBit:
      bytes[bytes.count - 5] ^= 0x01
      let lost = lastBatchRecordCount(bytes, batchSize)
      expectedRecords.removeLast(lost)
    case .zeroFilledTail:
      bytes += [UInt8](repeating: 0, count: 4096)
    case .truncatedIndex:
      let index = activeLog.replacingOccurrences(of: ".log", with: ".index")
      let entries = fileBytes(index)
      #expect(entries.count >= 16)
      writeFile(index, Array(entries[0..<(entries.count - 5)]))
    case .garbageIndex:
      let index = activeLog.replacingOccurrences(of: ".log", with: ".index")
      writeFile(index, fileBytes(index) + [0xFF, 0xFF, 0xFF, 0xF0, 0x7F, 0xFF, 0xFF, 0xFF] + [UInt8](repeating: 0, count: 16))
    case .truncatedTimeIndex:
      let index = activeLog.replacingOccurrences(of: ".log", with: ".timeindex")
      let entries = fileBytes(index)
      writeFile(index, Array(entries[0..<max(0, entries.count - 7)]))
    }
    if damage != .truncatedIndex && damage != .garbageIndex && damage != .truncatedTimeIndex {
      writeFile(activeLog, bytes)
    }
    let (store, p) = try reopen(dir)
    #expect(store.epoch == epoch + 1)
    switch damage {
    case .halfWrittenBatch, .flippedBit, .zeroFilledTail:
      #expect(store.recoveryEvents.count == 1)
      #expect(store.recoveryEvents.first?.truncatedBytes ?? 0 > 0)
    default:
      #expect(store.recoveryEvents.isEmpty)
    }
    #expect(try p.readAll().map(\.1) == expectedRecords)
    // Appends go on from the recovered end, and every index is sound again.
    let next = try p.appendAll([TestRecord.sample(5000)])
    #expect(next[0].baseOffset == Int64(expectedRecords.count))
    try store.close()
    let summary = try LogVerifier.verify(dataDirectory: dir.path)
    #expect(summary.problems.isEmpty, "\(summary.problems)")
    #expect(summary.records == Int64(expectedRecords.count + 1))
  }

  @Test func recoveryScansOnlyFromTheRecoveryPoint() throws {
    let dir = TempDirectory()
    let store = try LogStore.open(directory: dir.path, options: Self.options)
    let p = try store.createTopic("t", config: TopicConfig(fsync: .always, maxAgeMs: nil)).partitions[0]
    try p.appendAll((0..<100).map { TestRecord.sample($0) }, batchSize: 10)
    try store.saveRecoveryPoints()
    let point = p.recoveryPoint
    #expect(point.offset == 100)
    try p.appendAll((100..<200).map { TestRecord.sample($0) }, batchSize: 10)
    let log = p.lock.withLock { p.active.logPath }
    store.abandonForTesting()
    // Damage before the recovery point is not scanned at open (only reads and verify see it);
    // damage after it is truncated.
    var bytes = fileBytes(log)
    bytes[100] ^= 0xFF
    bytes += [1, 2, 3]
    writeFile(log, bytes)
    let (again, q) = try reopen(dir)
    #expect(again.recoveryEvents.map(\.truncatedBytes) == [3])
    #expect(q.state.logEndOffset == 200)
    #expect(throws: LogError.self) { try PartitionReader(partition: q).read(from: 0) }
    #expect(try q.readAll(from: 150).count == 50)
    try again.close()
    let problems = try LogVerifier.verify(dataDirectory: dir.path).problems
    #expect(problems.count >= 1)
    #expect(problems.first?.description.contains("topic=t partition=0 file=00000000000000000000.log offset=0") == true)
  }

  @Test func corruptionInASealedSegmentIsReportedNotSkipped() throws {
    let dir = TempDirectory()
    let store = try LogStore.open(directory: dir.path, options: Self.options)
    let p = try store.createTopic("t", config: Self.config).partitions[0]
    try p.appendAll((0..<600).map { TestRecord.sample($0) }, batchSize: 3)
    let sealed = p.lock.withLock { p.segments[1] }
    let sealedPath = sealed.logPath
    let sealedBase = sealed.baseOffset
    try store.close()
    var bytes = fileBytes(sealedPath)
    // A bit inside the records of a batch in the middle (the epoch and offset fields, like
    // Kafka's, are outside the CRC).
    let sizes = batchSizes(bytes)
    let middle = sizes[0..<(sizes.count / 2)].reduce(0, +)
    bytes[middle + RecordBatchView.headerSize + 5] ^= 0x40
    writeFile(sealedPath, bytes)
    let (again, q) = try reopen(dir)
    #expect(again.recoveryEvents.isEmpty)
    // Reading through the damage fails with the segment named; reading before and after works.
    var error: LogError?
    do { _ = try q.readAll(from: sealedBase) } catch let e as LogError { error = e }
    #expect(error?.code == .corrupt)
    #expect(error?.message.contains(Segment.fileName(sealedBase, ".log")) == true)
    #expect(try PartitionReader(partition: q).read(from: 0, maxBytes: 1).nextOffset > 0)
    #expect(try q.readAll(from: sealedBase + Int64(sealed.nextOffset - sealedBase)).count > 0)
    try again.close()
    let problems = try LogVerifier.verify(dataDirectory: dir.path).problems
    #expect(problems.count == 1)
    #expect(problems.first?.file == Segment.fileName(sealedBase, ".log"))
    #expect(problems.first?.message.contains("sealed") == true)
  }

  /// Sizes of the batches in a log file, in order.
  func batchSizes(_ bytes: [UInt8]) -> [Int] {
    bytes.withUnsafeBytes { raw in
      var scanner = BatchScanner(raw)
      var sizes: [Int] = []
      while let b = scanner.next() { sizes.append(b.size) }
      return sizes
    }
  }

  func lastBatchRecordCount(_ bytes: [UInt8], _ size: Int) -> Int {
    bytes.withUnsafeBytes { raw in
      Int(RecordBatchView(UnsafeRawBufferPointer(rebasing: raw[(raw.count - size)...])).recordCount)
    }
  }
}
