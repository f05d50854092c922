import Foundation
import Testing

@testable import Ingest
@testable import PartitionedLog

/// A log in a fresh temporary directory, removed (after closing the store) when released.
final class SerialTestLog: @unchecked Sendable {
  let path: String
  let store: LogStore

  init() throws {
    path = NSTemporaryDirectory() + "weir-serial-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    store = try LogStore.open(directory: path + "/data")
    // The tests read at fixed times in 1970: without age retention, no retention pass can take
    // their records before they are read.
    for name in ["telemetry", "deadletter"] { _ = try store.createTopic(name, config: TopicConfig(maxAgeMs: nil)) }
  }

  deinit {
    try? store.close()
    try? FileManager.default.removeItem(atPath: path)
  }

  /// Every durable record of `topic`, all partitions, in partition then offset order.
  func records(_ topic: String) throws -> [SerialTestRecord] {
    guard let t = store.topic(topic) else { return [] }
    var out: [SerialTestRecord] = []
    for partition in t.partitions {
      try partition.flush()
      let reader = PartitionReader(partition: partition)
      var next: Int64 = 0
      while true {
        let result = try reader.read(from: next)
        if result.isEmpty { break }
        result.forEachRecord { out.append(SerialTestRecord($0)) }
        next = result.nextOffset
      }
    }
    return out
  }

  func count(_ topic: String) -> Int {
    (try? records(topic).count) ?? 0
  }
}

/// A record as serial tests compare it.
struct SerialTestRecord: CustomStringConvertible {
  var timestamp: Int64
  var key: String?
  var value: String
  var headers: [String: String] = [:]

  init(_ view: RecordView) {
    timestamp = view.timestamp
    key = view.key.map { String(decoding: $0, as: UTF8.self) }
    value = view.value.map { String(decoding: $0, as: UTF8.self) } ?? ""
    var it = view.headers
    while let h = it.next() {
      headers[String(decoding: h.key, as: UTF8.self)] = h.value.map { String(decoding: $0, as: UTF8.self) } ?? ""
    }
  }

  /// The value parsed as a JSON object.
  var json: [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(value.utf8), options: [.fragmentsAllowed])) as? [String: Any] ?? [:]
  }

  /// The `weir.error` header of a dead letter.
  var error: String { headers["weir.error"] ?? "" }

  var description: String { "ts=\(timestamp) key=\(key ?? "nil") value=\(value) headers=\(headers)" }
}

/// Polls `condition` until it holds or `seconds` pass; returns whether it held. It sleeps with
/// `Task.sleep`, never blocking a thread of the cooperative pool (two threads on a two-core
/// machine, shared with every test running in parallel).
func serialWait(_ seconds: Double, _ condition: () throws -> Bool) async rethrows -> Bool {
  let deadline = Date().addingTimeInterval(seconds)
  while Date() < deadline {
    if try condition() { return true }
    try? await Task.sleep(for: .milliseconds(5))
  }
  return try condition()
}

/// Runs the jobs of the tasks that prefer it on a Dispatch queue instead of the cooperative pool,
/// so a source under test starts even while other tests block the pool's threads.
final class SerialQueueExecutor: TaskExecutor {
  static let shared = SerialQueueExecutor()
  private let queue = DispatchQueue(label: "weir-serial-tests", attributes: .concurrent)

  func enqueue(_ job: consuming ExecutorJob) {
    let job = UnownedJob(job)
    let executor = asUnownedTaskExecutor()
    queue.async { job.runSynchronously(on: executor) }
  }
}

/// Runs a source's `run()` in a task, and stops and awaits it at the end of a test.
final class SerialRunningSource: Sendable {
  let task: Task<Void, any Error>
  let stop: @Sendable () -> Void

  init(_ source: SerialLineSource) {
    task = Task(executorPreference: SerialQueueExecutor.shared) { try await source.run() }
    stop = { source.stop() }
  }

  init(_ source: ModbusSource) {
    task = Task(executorPreference: SerialQueueExecutor.shared) { try await source.run() }
    stop = { source.stop() }
  }

  func finish() async throws {
    stop()
    try await task.value
  }
}

/// A port config for a test pseudo-terminal, with quick reopen delays.
func serialTestPort(_ path: String, deviceId: String? = "dev-1", baud: Int = 115_200) -> SerialPortConfig {
  SerialPortConfig(
    path: path, deviceId: deviceId, baudRate: baud, reopenInitialDelayMs: 20, reopenMaxDelayMs: 200, reopenJitter: 0.2)
}

/// NMEA sentence with its checksum and CRLF.
func nmea(_ body: String) -> String {
  let sum = body.utf8.reduce(UInt8(0), ^)
  return "$\(body)*\(String(format: "%02X", sum))\r\n"
}

/// Runs every test of a suite with its jobs on ``SerialQueueExecutor``: a pty test then keeps
/// running on time even when other tests in the process block the cooperative pool's threads
/// (synchronous waits, `Process.waitUntilExit`).
struct SerialExecutorTrait: SuiteTrait, TestTrait, TestScoping {
  var isRecursive: Bool { true }

  func provideScope(
    for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
  ) async throws {
    try await withTaskExecutorPreference(SerialQueueExecutor.shared) { try await function() }
  }
}

extension Trait where Self == SerialExecutorTrait {
  static var onSerialExecutor: Self { SerialExecutorTrait() }
}
