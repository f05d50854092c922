import Foundation
import Testing

@testable import PartitionedLog

@Suite struct MetadataTests {
  @Test func cursorsPersistTransactionallyInWALMode() throws {
    let dir = TempDirectory()
    let store = try LogStore.open(directory: dir.path)
    let p = try store.createTopic("t", config: TopicConfig(partitions: 2)).partitions[0]
    try p.appendAll((0..<20).map { TestRecord.sample($0) })
    try store.metadata.commit(cursor: "uplink", [("t", 0, 7), ("t", 1, 0)], now: 1)
    try store.metadata.commit(cursor: "rules", [("t", 0, 3)], now: 2)
    #expect(store.metadata.cursor("uplink", topic: "t", partition: 0) == 7)
    #expect(store.metadata.cursors(topic: "t", partition: 0) == ["uplink": 7, "rules": 3])
    let mode = try store.metadata.journalMode()
    #expect(mode == "wal")
    try store.close()
    let again = try LogStore.open(directory: dir.path)
    #expect(again.metadata.cursor("uplink", topic: "t", partition: 0) == 7)
    #expect(try again.metadata.allCursors().count == 3)
    try again.metadata.deleteCursor("rules")
    #expect(again.metadata.cursor("rules", topic: "t", partition: 0) == nil)
    try again.close()
  }

  @Test func cursorsAheadOfTheRecoveredLogAreClamped() throws {
    let dir = TempDirectory()
    let store = try LogStore.open(directory: dir.path)
    let p = try store.createTopic("t").partitions[0]
    try p.appendAll((0..<10).map { TestRecord.sample($0) })
    try store.metadata.commit(cursor: "uplink", [("t", 0, 1000)], now: 1)
    try store.close()
    let again = try LogStore.open(directory: dir.path)
    #expect(again.metadata.cursor("uplink", topic: "t", partition: 0) == 10)
    try again.close()
  }

  @Test func checkpointsRoundTrip() throws {
    let dir = TempDirectory()
    let store = try LogStore.open(directory: dir.path)
    #expect(try store.metadata.loadCheckpoint("rule:a") == nil)
    try store.metadata.saveCheckpoint("rule:a", [1, 2, 3], now: 5)
    try store.metadata.saveCheckpoint("rule:a", [4, 5], now: 6)
    #expect(try store.metadata.loadCheckpoint("rule:a") == [4, 5])
    try store.close()
  }

  @Test func epochRisesOnlyAfterAnUncleanStop() throws {
    let dir = TempDirectory()
    let first = try LogStore.open(directory: dir.path)
    let e0 = first.epoch
    try first.close()
    let second = try LogStore.open(directory: dir.path)
    #expect(second.epoch == e0)
    second.abandonForTesting()
    let third = try LogStore.open(directory: dir.path)
    #expect(third.epoch == e0 + 1)
    #expect(third.recoveredFromUncleanStop)
    try third.close()
  }
}
