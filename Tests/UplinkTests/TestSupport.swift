import Foundation
import PartitionedLog
import Synchronization
import Testing
import WeirCore

@testable import Uplink

/// A fresh directory under /tmp, removed when the test ends.
final class TempDirectory: Sendable {
  let path: String

  init(_ name: String = "weir-uplink-test") {
    path = NSTemporaryDirectory() + "\(name)-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }

  deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Kafka's murmur2 (seed 0x9747b28c), written again here so the test does not trust the code under test.
func kafkaMurmur2(_ bytes: [UInt8]) -> Int32 {
  let m: UInt32 = 0x5bd1_e995
  var h: UInt32 = 0x9747_b28c ^ UInt32(bytes.count)
  var i = 0
  while i + 4 <= bytes.count {
    var k = UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
    k = k &* m
    k ^= k >> 24
    k = k &* m
    h = h &* m
    h ^= k
    i += 4
  }
  let rest = bytes.count - i
  if rest == 3 { h ^= UInt32(bytes[i + 2]) << 16 }
  if rest >= 2 { h ^= UInt32(bytes[i + 1]) << 8 }
  if rest >= 1 {
    h ^= UInt32(bytes[i])
    h = h &* m
  }
  h ^= h >> 13
  h = h &* m
  h ^= h >> 15
  return Int32(bitPattern: h)
}

func kafkaPartition(_ key: [UInt8], _ partitions: Int) -> Int32 {
  Int32(Int(UInt32(bitPattern: kafkaMurmur2(key)) & 0x7fff_ffff) % partitions)
}

/// A test log: topics with the given partition counts, page-cache durability for speed.
func openTestStore(_ dir: TempDirectory, topics: [String: Int], fsync: FsyncPolicy = .never) throws -> LogStore {
  let store = try LogStore.open(directory: dir.path, options: LogOptions(minFreeBytes: 0))
  for (name, partitions) in topics {
    try store.createTopic(name, config: TopicConfig(partitions: partitions, fsync: fsync, maxAgeMs: nil))
  }
  return store
}

let testEpochMs = Int64(Date().timeIntervalSince1970 * 1000)

/// Appends `count` records to `topic`, keyed `device-N`, each to the partition Kafka's murmur2
/// picks, values `{"seq":i,...}` padded to about `valueBytes`. Returns per-partition counts.
@discardableResult
func appendKeyed(
  _ store: LogStore, topic: String, count: Int, from first: Int = 0, devices: Int = 50, valueBytes: Int = 100,
  batch: Int = 500
) throws -> [Int32: Int] {
  let t = store.topic(topic)!
  let n = t.partitions.count
  var builders: [Int32: (RecordBatchBuilder, Int)] = [:]
  var counts: [Int32: Int] = [:]
  func flush(_ p: Int32) throws {
    guard let (builder, _) = builders[p], !builder.isEmpty else { return }
    try t.partitions[Int(p)].append(builder)
    builder.reset()
    builders[p]!.1 = 0
  }
  for i in first..<(first + count) {
    let key = Array("device-\(i % devices)".utf8)
    let p = kafkaPartition(key, n)
    var text = "{\"seq\":\(i),\"topic\":\"\(topic)\",\"pad\":\""
    text += String(repeating: "x", count: max(0, valueBytes - text.utf8.count - 2)) + "\"}"
    if builders[p] == nil { builders[p] = (RecordBatchBuilder(), 0) }
    builders[p]!.0.append(
      timestamp: testEpochMs + Int64(i), key: key, value: Array(text.utf8), headers: [("source", Array("test".utf8))])
    builders[p]!.1 += 1
    counts[p, default: 0] += 1
    if builders[p]!.1 >= batch { try flush(p) }
  }
  for p in builders.keys { try flush(p) }
  return counts
}

/// Runs blocking work on a thread of its own (librdkafka's blocking calls never run on the pool).
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
  try await withCheckedThrowingContinuation { continuation in
    let thread = Thread {
      do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
    }
    thread.stackSize = 1 << 20
    thread.start()
  }
}

/// The identity central consumers deduplicate on.
struct EdgeID: Hashable, CustomStringConvertible {
  var gateway: String
  var epoch: String
  var topic: String
  var partition: Int32
  var offset: Int64

  init?(_ record: KafkaConsumedRecord) {
    guard let g = record.header("weir.gateway"), let e = record.header("weir.epoch"),
      let t = record.header("weir.topic"),
      let p = record.header("weir.partition").flatMap({ Int32($0) }),
      let o = record.header("weir.offset").flatMap({ Int64($0) })
    else { return nil }
    gateway = g
    epoch = e
    topic = t
    partition = p
    offset = o
  }

  var description: String { "\(gateway)/\(epoch)/\(topic)/\(partition)@\(offset)" }
}

/// Reads remote topics from the beginning until `done` says so or `timeout` passes.
func consume(
  bootstrap: String, topics: [String], timeout: Double,
  until done: @escaping @Sendable ([KafkaConsumedRecord]) -> Bool
) async throws -> [KafkaConsumedRecord] {
  try await onThread {
    let consumer = try RdKafkaConsumer(bootstrapServers: bootstrap)
    var assignment: [(topic: String, partitions: [Int32])] = []
    for topic in topics { assignment.append((topic, try consumer.partitions(of: topic))) }
    try consumer.assign(assignment, fromBeginning: true)
    var records: [KafkaConsumedRecord] = []
    let deadline = Date().addingTimeInterval(timeout)
    var lastCheck = 0
    while Date() < deadline {
      if let record = try? consumer.poll(timeoutMs: 100) {
        records.append(record)
        if records.count - lastCheck < 1000 { continue }
      }
      lastCheck = records.count
      if done(records) { break }
    }
    return records
  }
}

/// Per local (topic, partition): offsets in the order they first arrived (duplicates dropped).
func firstArrivals(_ records: [KafkaConsumedRecord]) -> (order: [String: [Int64]], duplicates: [EdgeID]) {
  var seen: Set<EdgeID> = []
  var order: [String: [Int64]] = [:]
  var duplicates: [EdgeID] = []
  for r in records {
    guard let id = EdgeID(r), r.header("weir.gap") == nil else { continue }
    if seen.insert(id).inserted {
      order["\(id.topic)/\(id.partition)", default: []].append(id.offset)
    } else {
      duplicates.append(id)
    }
  }
  return (order, duplicates)
}

func kafkaOptions(
  name: String = "central", topics: [UplinkTopic], window: InFlightWindow = InFlightWindow(),
  drainOrder: DrainOrder = .fifo, bandwidth: Int? = nil
) -> UplinkOptions {
  UplinkOptions(
    name: name, gateway: "gw-test", topics: topics, topicTemplate: "edge.{topic}", window: window,
    commitIntervalMs: 200, bandwidthBytesPerSecond: bandwidth, drainOrder: drainOrder,
    backoff: Backoff(initialMs: 100, maxMs: 1000), snapshotIntervalMs: 50, stallTimeoutMs: 2000)
}

/// Waits until `condition` holds, polling, or fails after `timeout` seconds.
func eventually(
  _ what: String, timeout: Double, _ condition: @Sendable () throws -> Bool,
  sourceLocation: SourceLocation = #_sourceLocation
) async throws {
  let deadline = Date().addingTimeInterval(timeout)
  while Date() < deadline {
    if try condition() { return }
    try await Task.sleep(nanoseconds: 20_000_000)
  }
  Issue.record("timed out after \(timeout) s waiting for: \(what)", sourceLocation: sourceLocation)
}

/// A running uplink and the task that runs it.
struct Running {
  let uplink: KafkaUplink
  let task: Task<Void, any Error>

  init(_ uplink: KafkaUplink) {
    self.uplink = uplink
    task = Task { try await uplink.run() }
  }

  func stop() async throws {
    uplink.stop()
    try await task.value
  }
}

/// A short description of an offset sequence for failure messages: count, first, last, first
/// place it is not consecutive.
func summary(_ offsets: [Int64]?) -> String {
  guard let offsets, let first = offsets.first else { return "nothing" }
  var text = "\(offsets.count) offsets \(first)...\(offsets.last!)"
  if let i = offsets.indices.dropFirst().first(where: { offsets[$0] != offsets[$0 - 1] + 1 }) {
    text += ", first break after \(offsets[i - 1]): \(offsets[i])"
  }
  return text
}

/// Appends `total` keyed records to `topic` in slices of `slice` every `intervalMs` on a thread of
/// its own; the task returns the per-partition counts.
func appendSteadily(
  _ store: LogStore, topic: String, total: Int, slice: Int, intervalMs: Int, from first: Int = 0
) -> Task<[Int32: Int], any Error> {
  Task {
    try await onThread {
      var counts: [Int32: Int] = [:]
      var done = 0
      while done < total {
        let n = min(slice, total - done)
        for (p, c) in try appendKeyed(store, topic: topic, count: n, from: first + done, batch: slice) {
          counts[p, default: 0] += c
        }
        done += n
        usleep(UInt32(intervalMs * 1000))
      }
      return counts
    }
  }
}

/// Checks that every local offset of every partition arrived, in order of first arrival.
func expectComplete(
  _ records: [KafkaConsumedRecord], topic: String, counts: [Int32: Int], allowDuplicates: Bool,
  sourceLocation: SourceLocation = #_sourceLocation
) {
  let (order, duplicates) = firstArrivals(records)
  for (p, n) in counts {
    let got = order["\(topic)/\(p)"] ?? []
    #expect(got == Array(0..<Int64(n)), "\(topic)/\(p): \(summary(got)), expected \(n)", sourceLocation: sourceLocation)
  }
  if !allowDuplicates {
    #expect(
      duplicates.isEmpty, "\(duplicates.count) duplicates, first \(duplicates.prefix(3))",
      sourceLocation: sourceLocation)
  }
}

/// Samples an uplink's snapshot every 20 ms on a task until cancelled; keeps the extremes.
final class SnapshotSampler: Sendable {
  private let state = Mutex((maxLag: Int64(0), sawDisconnected: false, samples: 0))
  private let task: Mutex<Task<Void, Never>?> = Mutex(nil)

  init(_ snapshot: @escaping @Sendable () -> UplinkSnapshot) {
    let t = Task { [self] in
      while !Task.isCancelled {
        let s = snapshot()
        self.state.withLock {
          $0.maxLag = max($0.maxLag, s.lagRecords)
          if !s.connected { $0.sawDisconnected = true }
          $0.samples += 1
        }
        try? await Task.sleep(nanoseconds: 20_000_000)
      }
    }
    task.withLock { $0 = t }
  }

  func stop() -> (maxLag: Int64, sawDisconnected: Bool, samples: Int) {
    task.withLock { $0?.cancel() }
    return state.withLock { $0 }
  }
}
