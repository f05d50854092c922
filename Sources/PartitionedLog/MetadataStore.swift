import Foundation
import GRDB
import Synchronization

/// A consumer's committed position in one partition.
public struct CursorPosition: Sendable, Equatable {
  public var name: String
  public var topic: String
  public var partition: Int32
  /// The next offset the consumer will read.
  public var offset: Int64
  /// Epoch milliseconds of the last commit.
  public var updatedAt: Int64
}

/// The log's metadata in one SQLite database (`<data_dir>/weir.db`, WAL mode, `synchronous=FULL`):
/// topics, recovery points, the log epoch, the clean-shutdown mark, named cursors and named
/// checkpoints (the rule engine's state). Changes are transactional.
public final class MetadataStore: Sendable {
  let pool: DatabasePool
  private let cursorCache = Mutex<[String: [String: Int64]]>([:])
  /// Called when SQLite finds the disk full; true when it made room, and the write is tried once
  /// more (the log store releases its reserve here).
  private let fullHandler = Mutex<(@Sendable () -> Bool)?>(nil)

  public init(path: String) throws(LogError) {
    do {
      var configuration = Configuration()
      configuration.busyMode = .timeout(10)
      configuration.prepareDatabase { db in
        try db.execute(sql: "PRAGMA synchronous = FULL")
      }
      pool = try DatabasePool(path: path, configuration: configuration)
      try Self.migrator.migrate(pool)
      let all = try pool.read { db in try Row.fetchAll(db, sql: "SELECT name, topic, partition, offset FROM cursors") }
      cursorCache.withLock { cache in
        for row in all {
          cache[Self.key(row["topic"], row["partition"]), default: [:]][row["name"]] = row["offset"]
        }
      }
    } catch {
      throw LogError(.metadata, "open metadata database \(path): \(error)")
    }
  }

  static var migrator: DatabaseMigrator {
    var migrator = DatabaseMigrator()
    migrator.registerMigration("v1") { db in
      try db.execute(
        sql: """
          CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
          CREATE TABLE topics (name TEXT PRIMARY KEY NOT NULL, config TEXT NOT NULL, created_at INTEGER NOT NULL);
          CREATE TABLE recovery_points (
            topic TEXT NOT NULL, partition INTEGER NOT NULL, segment_base INTEGER NOT NULL,
            position INTEGER NOT NULL, offset INTEGER NOT NULL, max_timestamp INTEGER NOT NULL,
            offset_of_max_timestamp INTEGER NOT NULL, PRIMARY KEY (topic, partition));
          CREATE TABLE cursors (
            name TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL, offset INTEGER NOT NULL,
            updated_at INTEGER NOT NULL, PRIMARY KEY (name, topic, partition));
          CREATE TABLE checkpoints (name TEXT PRIMARY KEY NOT NULL, state BLOB NOT NULL, updated_at INTEGER NOT NULL);
          """)
    }
    return migrator
  }

  static func key(_ topic: String, _ partition: Int32) -> String { "\(topic)\u{0}\(partition)" }

  /// Sets what to do when the disk is full (see ``DiskReserve``).
  func onDiskFull(_ handler: @escaping @Sendable () -> Bool) {
    fullHandler.withLock { $0 = handler }
  }

  /// A write; on a full disk, once more after the handler made room, then ``LogError/Code/full``.
  private func write<T>(_ what: String, _ body: (Database) throws -> T) throws(LogError) -> T {
    do {
      return try pool.write(body)
    } catch let error as DatabaseError where error.resultCode == .SQLITE_FULL {
      if let handler = fullHandler.withLock({ $0 }), handler() {
        do {
          return try pool.write(body)
        } catch {
          throw Self.failure(what, error)
        }
      }
      throw Self.failure(what, error)
    } catch {
      throw Self.failure(what, error)
    }
  }

  private static func failure(_ what: String, _ error: any Error) -> LogError {
    if let db = error as? DatabaseError, db.resultCode == .SQLITE_FULL {
      return LogError(.full, "\(what): the disk is full (\(db.message ?? "SQLITE_FULL"))")
    }
    return LogError(.metadata, "\(what): \(error)")
  }

  private func read<T>(_ what: String, _ body: (Database) throws -> T) throws(LogError) -> T {
    do {
      return try pool.read(body)
    } catch {
      throw LogError(.metadata, "\(what): \(error)")
    }
  }

  // MARK: Meta values

  func journalMode() throws(LogError) -> String? {
    try read("read journal mode") { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
  }

  func value(_ key: String) throws(LogError) -> String? {
    try read("read \(key)") { db in
      try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key])
    }
  }

  func setValue(_ key: String, _ value: String) throws(LogError) {
    try write("write \(key)") { db in
      try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", arguments: [key, value])
    }
  }

  // MARK: Topics

  /// Every topic and its settings, as last created or updated.
  public func topics() throws(LogError) -> [(String, TopicConfig)] {
    let rows = try read("read topics") { db in
      try Row.fetchAll(db, sql: "SELECT name, config FROM topics ORDER BY name")
    }
    var result: [(String, TopicConfig)] = []
    for row in rows {
      let name: String = row["name"]
      let json: String = row["config"]
      guard let config = try? JSONDecoder().decode(TopicConfig.self, from: Data(json.utf8)) else {
        throw LogError(.metadata, "topic \(name) has an unreadable configuration in the metadata database")
      }
      result.append((name, config))
    }
    return result
  }

  func saveTopic(_ name: String, _ config: TopicConfig, now: Int64) throws(LogError) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    let json = String(decoding: (try? encoder.encode(config)) ?? Data(), as: UTF8.self)
    try write("save topic \(name)") { db in
      try db.execute(
        sql: """
          INSERT INTO topics (name, config, created_at) VALUES (?, ?, ?)
          ON CONFLICT(name) DO UPDATE SET config = excluded.config
          """, arguments: [name, json, now])
    }
  }

  // MARK: Recovery points

  func recoveryPoints() throws(LogError) -> [String: RecoveryPoint] {
    let rows = try read("read recovery points") { db in try Row.fetchAll(db, sql: "SELECT * FROM recovery_points") }
    var result: [String: RecoveryPoint] = [:]
    for row in rows {
      result[Self.key(row["topic"], row["partition"])] = RecoveryPoint(
        segmentBase: row["segment_base"], position: row["position"], offset: row["offset"],
        maxTimestamp: row["max_timestamp"], offsetOfMaxTimestamp: row["offset_of_max_timestamp"])
    }
    return result
  }

  func saveRecoveryPoints(_ points: [(String, Int32, RecoveryPoint)]) throws(LogError) {
    guard !points.isEmpty else { return }
    try write("save recovery points") { db in
      for (topic, partition, p) in points {
        try db.execute(
          sql: "INSERT OR REPLACE INTO recovery_points VALUES (?, ?, ?, ?, ?, ?, ?)",
          arguments: [topic, partition, p.segmentBase, p.position, p.offset, p.maxTimestamp, p.offsetOfMaxTimestamp])
      }
    }
  }

  // MARK: Cursors

  /// The committed offset of cursor `name` in a partition, if it ever committed.
  public func cursor(_ name: String, topic: String, partition: Int32) -> Int64? {
    cursorCache.withLock { $0[Self.key(topic, partition)]?[name] }
  }

  /// Commits several positions of one cursor in one transaction.
  public func commit(cursor name: String, _ positions: [(topic: String, partition: Int32, offset: Int64)], now: Int64)
    throws(LogError)
  {
    guard !positions.isEmpty else { return }
    try write("commit cursor \(name)") { db in try Self.saveCursor(db, name, positions, now: now) }
    cacheCursor(name, positions)
  }

  private static func saveCursor(
    _ db: Database, _ name: String, _ positions: [(topic: String, partition: Int32, offset: Int64)], now: Int64
  ) throws {
    for p in positions {
      try db.execute(
        sql: "INSERT OR REPLACE INTO cursors (name, topic, partition, offset, updated_at) VALUES (?, ?, ?, ?, ?)",
        arguments: [name, p.topic, p.partition, p.offset, now])
    }
  }

  private func cacheCursor(_ name: String, _ positions: [(topic: String, partition: Int32, offset: Int64)]) {
    cursorCache.withLock { cache in
      for p in positions { cache[Self.key(p.topic, p.partition), default: [:]][name] = p.offset }
    }
  }

  /// Every cursor position, for status and lag.
  public func allCursors() throws(LogError) -> [CursorPosition] {
    try read("read cursors") { db in
      try Row.fetchAll(db, sql: "SELECT * FROM cursors ORDER BY name, topic, partition").map {
        CursorPosition(
          name: $0["name"], topic: $0["topic"], partition: $0["partition"], offset: $0["offset"],
          updatedAt: $0["updated_at"])
      }
    }
  }

  /// Cursor positions in one partition, by cursor name (from memory).
  public func cursors(topic: String, partition: Int32) -> [String: Int64] {
    cursorCache.withLock { $0[Self.key(topic, partition)] ?? [:] }
  }

  public func deleteCursor(_ name: String) throws(LogError) {
    try write("delete cursor \(name)") { db in
      try db.execute(sql: "DELETE FROM cursors WHERE name = ?", arguments: [name])
    }
    cursorCache.withLock { cache in
      for key in cache.keys { cache[key]?.removeValue(forKey: name) }
    }
  }

  // MARK: Checkpoints

  public func saveCheckpoint(_ name: String, _ state: [UInt8], now: Int64) throws(LogError) {
    try write("save checkpoint \(name)") { db in
      try db.execute(
        sql: "INSERT OR REPLACE INTO checkpoints (name, state, updated_at) VALUES (?, ?, ?)",
        arguments: [name, Data(state), now])
    }
  }

  /// Saves a consumer's state and its cursor in one transaction, so the two never disagree.
  public func saveCheckpoint(
    _ name: String, _ state: [UInt8], cursor: String, _ positions: [(topic: String, partition: Int32, offset: Int64)],
    now: Int64
  ) throws(LogError) {
    try write("save checkpoint \(name)") { db in
      try db.execute(
        sql: "INSERT OR REPLACE INTO checkpoints (name, state, updated_at) VALUES (?, ?, ?)",
        arguments: [name, Data(state), now])
      try Self.saveCursor(db, cursor, positions, now: now)
    }
    cacheCursor(cursor, positions)
  }

  /// Every checkpoint whose name starts with `prefix`, by name.
  public func checkpoints(prefix: String) throws(LogError) -> [(name: String, state: [UInt8])] {
    try read("load checkpoints \(prefix)*") { db in
      try Row.fetchAll(
        db, sql: "SELECT name, state FROM checkpoints WHERE substr(name, 1, ?) = ? ORDER BY name",
        arguments: [prefix.utf8.count, prefix]
      ).map { (name: $0["name"], state: [UInt8]($0["state"] as Data)) }
    }
  }

  /// Writes checkpoints (a nil state deletes one), cursors and cursor deletions in one
  /// transaction: a component with many small pieces of state (the MQTT listener's sessions and
  /// retained messages) saves them all with one fsync.
  public func apply(_ batch: MetadataBatch, now: Int64) throws(LogError) {
    guard !batch.isEmpty else { return }
    try write("save \(batch.checkpoints.count) checkpoints and \(batch.cursors.count) cursors") { db in
      for (name, state) in batch.checkpoints {
        if let state {
          try db.execute(
            sql: "INSERT OR REPLACE INTO checkpoints (name, state, updated_at) VALUES (?, ?, ?)",
            arguments: [name, Data(state), now])
        } else {
          try db.execute(sql: "DELETE FROM checkpoints WHERE name = ?", arguments: [name])
        }
      }
      for name in batch.deletedCursors {
        try db.execute(sql: "DELETE FROM cursors WHERE name = ?", arguments: [name])
      }
      for (name, positions) in batch.cursors { try Self.saveCursor(db, name, positions, now: now) }
    }
    cursorCache.withLock { cache in
      for name in batch.deletedCursors {
        for key in cache.keys { cache[key]?.removeValue(forKey: name) }
      }
    }
    for (name, positions) in batch.cursors { cacheCursor(name, positions) }
  }

  public func loadCheckpoint(_ name: String) throws(LogError) -> [UInt8]? {
    try read("load checkpoint \(name)") { db in
      try Data.fetchOne(db, sql: "SELECT state FROM checkpoints WHERE name = ?", arguments: [name]).map { [UInt8]($0) }
    }
  }
}

/// Checkpoints and cursors to write together (``MetadataStore/apply(_:now:)``).
public struct MetadataBatch: Sendable {
  /// A nil state deletes the checkpoint.
  public var checkpoints: [(name: String, state: [UInt8]?)] = []
  public var cursors: [(name: String, positions: [(topic: String, partition: Int32, offset: Int64)])] = []
  /// Deleted before `cursors` are written.
  public var deletedCursors: [String] = []

  public init() {}

  public var isEmpty: Bool { checkpoints.isEmpty && cursors.isEmpty && deletedCursors.isEmpty }
}
