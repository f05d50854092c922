/// A reader of some partitions under one name, like a Kafka consumer: every consumer of the log
/// (an uplink, the rule service, `weir tail` through the HTTP API) reads through one.
///
/// - **Its cursor.** A named consumer starts each partition at the position its cursor in
///   `weir.db` holds (clamped to the log end, for recovery can cut a log shorter than a cursor),
///   or at the log start or end (``StartAt``) the first time, and writes that first position into
///   the cursor at once, so retention counts what it deletes before this consumer reads it.
///   ``commit(_:now:)`` moves the cursor (in one transaction, only the partitions that moved);
///   ``commit(checkpoint:_:now:)`` moves it in the same transaction as a checkpoint of the
///   consumer's own state. A consumer without a name (`weir tail`) has no cursor and never commits.
/// - **Reading.** ``read(_:maxBytes:limit:)`` reads whole batches at a member's position, turning
///   what nobody can read (deleted by retention, damaged) into a range to skip; the caller moves
///   the position (``seek(_:to:)``) once it has handled what it got, so a consumer that commits
///   after processing never commits past what it processed.
/// - **Waiting.** ``waitForData(after:timeoutNs:)`` blocks a thread of the consumer's own until
///   some partition gets records; ``watch(_:)`` and ``awaitData(_:timeoutNs:)`` are the async forms.
///
/// Not thread-safe: one consumer belongs to one thread (its reader buffers are reused).
public final class LogConsumer {
  /// Where a partition the cursor never saw starts.
  public enum StartAt: Sendable {
    /// The oldest record kept.
    case earliest
    /// The high watermark: only records appended from now on.
    case latest
  }

  /// One partition and this consumer's place in it.
  public struct Member {
    public let topic: String
    public let partition: Partition
    /// The next offset to read.
    public fileprivate(set) var position: Int64
    /// The cursor's offset in `weir.db` (nil for a consumer without a name).
    public fileprivate(set) var committed: Int64?
    /// The cursor had no position here before this consumer opened it.
    public let isNew: Bool
    /// Made at the first read (an uplink reads through streams of its own and never makes one).
    fileprivate var reader: PartitionReader?
  }

  /// The cursor's name in `weir.db`; nil for a consumer that never commits.
  public let name: String?
  public private(set) var members: [Member] = []
  private let store: LogStore
  private let bufferCapacity: Int

  /// `bufferCapacity`: each member's read buffer (made at its first read), the most one
  /// ``read(_:maxBytes:limit:)`` returns (a batch larger than it is still read whole).
  public init(store: LogStore, name: String?, bufferCapacity: Int = 1 << 20) {
    self.store = store
    self.name = name
    self.bufferCapacity = bufferCapacity
  }

  /// Adds every partition of `topic` not already a member, at its cursor position (new
  /// partitions at `startAt`), and records the new ones in the cursor. Returns the indexes of the
  /// members added.
  @discardableResult
  public func add(topic: Topic, startAt: StartAt, now: Int64) throws(LogError) -> Range<Int> {
    let first = members.count
    var created: [(topic: String, partition: Int32, offset: Int64)] = []
    for partition in topic.partitions where !members.contains(where: { $0.partition === partition }) {
      let state = partition.state
      let saved = name.flatMap { store.metadata.cursor($0, topic: topic.name, partition: partition.id) }
      let start = min(
        saved ?? (startAt == .earliest ? state.logStartOffset : state.highWatermark), state.logEndOffset)
      if saved == nil, name != nil { created.append((topic.name, partition.id, start)) }
      members.append(
        Member(
          topic: topic.name, partition: partition, position: start, committed: name == nil ? nil : start,
          isNew: saved == nil))
    }
    if let name { try store.metadata.commit(cursor: name, created, now: now) }
    return first..<members.count
  }

  /// Adds the partitions of `topic` at the given start offsets, clamped into the log start...high
  /// watermark (for a consumer without a name: `weir tail` reading from where its last page ended).
  @discardableResult
  public func add(topic: Topic, at start: (Partition) -> Int64) -> Range<Int> {
    let first = members.count
    for partition in topic.partitions where !members.contains(where: { $0.partition === partition }) {
      let low = partition.logStartOffset
      let position = min(max(start(partition), low), max(partition.highWatermark, low))
      members.append(
        Member(
          topic: topic.name, partition: partition, position: position, committed: nil, isNew: true))
    }
    return first..<members.count
  }

  /// The batches at member `index`'s position, a range nobody can read, or nothing yet. The
  /// position does not move: ``seek(_:to:)`` after handling the result.
  public func read(_ index: Int, maxBytes: Int = 1 << 20, limit: Int64? = nil) throws(LogError) -> ConsumerRead {
    let reader: PartitionReader
    if let made = members[index].reader {
      reader = made
    } else {
      reader = PartitionReader(partition: members[index].partition, bufferCapacity: bufferCapacity)
      members[index].reader = reader
    }
    return try reader.readOrSkip(from: members[index].position, maxBytes: maxBytes, limit: limit)
  }

  /// Moves member `index` to `offset`.
  public func seek(_ index: Int, to offset: Int64) {
    members[index].position = offset
  }

  /// The members' positions, in member order (what ``commit(_:now:)`` takes by default).
  public var positions: [Int64] { members.map(\.position) }

  /// Writes `offsets` (one per member, in member order; by default the positions) into the cursor,
  /// in one transaction, for the members whose offset moved. A consumer without a name does nothing.
  public func commit(_ offsets: [Int64]? = nil, now: Int64) throws(LogError) {
    guard let name else { return }
    let moved = changes(offsets)
    guard !moved.isEmpty else { return }
    try store.metadata.commit(cursor: name, moved.map { ($0.topic, $0.partition, $0.offset) }, now: now)
    for m in moved { members[m.index].committed = m.offset }
  }

  /// Saves `state` as checkpoint `checkpoint` and the positions (every member's, moved or not)
  /// as the cursor, in one transaction: the consumer's state and its place in the log never
  /// disagree after a crash.
  public func commit(checkpoint: String, _ state: [UInt8], now: Int64) throws(LogError) {
    guard let name else { return }
    try store.metadata.saveCheckpoint(
      checkpoint, state, cursor: name, members.map { ($0.topic, $0.partition.id, $0.position) }, now: now)
    for i in members.indices { members[i].committed = members[i].position }
  }

  private func changes(_ offsets: [Int64]?) -> [(index: Int, topic: String, partition: Int32, offset: Int64)] {
    var moved: [(index: Int, topic: String, partition: Int32, offset: Int64)] = []
    for (i, m) in members.enumerated() {
      let offset = offsets.map { $0[i] } ?? m.position
      if offset != m.committed { moved.append((i, m.topic, m.partition.id, offset)) }
    }
    return moved
  }

  // MARK: Waiting

  /// Counts high-watermark moves across the whole log: read it before reading the members, and
  /// when they had nothing new, wait with it.
  public var generation: UInt64 { store.dataGeneration }

  /// Blocks the calling thread until some partition's high watermark moves after `generation`, or
  /// `timeoutNs` pass; returns the generation now. Only on a thread of the consumer's own, never in
  /// Swift's cooperative pool.
  public func waitForData(after generation: UInt64, timeoutNs: Int64) -> UInt64 {
    store.waitForData(after: generation, timeoutNs: timeoutNs)
  }

  /// The members' partitions, for ``watch(_:)`` and ``awaitData(_:timeoutNs:)`` from other tasks.
  public var partitions: [Partition] { members.map(\.partition) }

  /// Calls `wake` whenever one of `partitions` gets records, until the task is cancelled (a
  /// consumer whose loop sleeps on a wake-up of its own, such as an uplink's).
  public static func watch(_ partitions: [Partition], _ wake: @escaping @Sendable () -> Void) async {
    await withTaskGroup(of: Void.self) { group in
      for partition in partitions {
        group.addTask {
          var seen = partition.highWatermark
          while !Task.isCancelled {
            await partition.waitForData(after: seen)
            let now = partition.highWatermark
            if now == seen {
              // A closed partition or cancellation: do not spin.
              try? await Task.sleep(nanoseconds: 100_000_000)
              continue
            }
            seen = now
            wake()
          }
        }
      }
    }
  }

  /// Returns once some partition's high watermark passes the offset given with it, `timeoutNs`
  /// pass, or the task is cancelled (a long poll).
  public static func awaitData(_ positions: [(Partition, Int64)], timeoutNs: Int64) async {
    guard !positions.isEmpty, timeoutNs > 0 else { return }
    await withTaskGroup(of: Void.self) { group in
      for (partition, offset) in positions {
        // The record at `offset` exists once the high watermark is above it.
        group.addTask { await partition.waitForData(after: offset) }
      }
      group.addTask { try? await Task.sleep(nanoseconds: UInt64(timeoutNs)) }
      await group.next()
      group.cancelAll()
    }
  }
}
