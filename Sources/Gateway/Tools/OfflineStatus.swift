import Foundation
import PartitionedLog

/// What `weir topics --data-dir` and `weir lag --data-dir` show for a stopped daemon: read from the
/// segment files and `weir.db` without opening the log (no recovery, no writes), in the API's types.
public struct OfflineStatus {
  public let dataDirectory: String
  let files: SegmentFiles

  public init(dataDirectory: String) throws {
    guard FileManager.default.fileExists(atPath: dataDirectory + "/weir.db") else {
      throw LogError(.invalidArgument, "\(dataDirectory) holds no Weir data (no weir.db)")
    }
    self.dataDirectory = dataDirectory
    files = SegmentFiles(dataDirectory: dataDirectory)
  }

  /// Start, end, size and segments of one partition; the end is found by walking its last segment.
  func partition(_ topic: String, _ id: Int32) throws -> PartitionInfo {
    let bases = try files.segmentBases(topic: topic, partition: id)
    var end = bases.last ?? 0
    if let last = bases.last {
      try files.forEachBatch(topic: topic, partition: id, from: last) { batch in
        end = max(end, batch.nextOffset)
        return true
      }
    }
    let dir = files.logDirectory + "/\(topic)-\(id)"
    let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
    let bytes = names.reduce(Int64(0)) { sum, name in
      let size = (try? FileManager.default.attributesOfItem(atPath: dir + "/" + name)[.size] as? NSNumber)?.int64Value ?? 0
      return sum + size
    }
    return PartitionInfo(
      partition: id, logStartOffset: bases.first ?? 0, highWatermark: end, logEndOffset: end, segments: bases.count,
      bytes: bytes)
  }

  public func topics() throws -> TopicsResponse {
    let metadata = try MetadataStore(path: dataDirectory + "/weir.db")
    let configs = Dictionary(try metadata.topics(), uniquingKeysWith: { $1 })
    let partitions = try files.partitions()
    var result: [TopicInfo] = []
    for name in Set(partitions.map(\.topic)).sorted() {
      let infos = try partitions.filter { $0.topic == name }.sorted { $0.partition < $1.partition }.map {
        try partition(name, $0.partition)
      }
      result.append(TopicInfo(name: name, config: configs[name] ?? TopicConfig(), partitions: infos))
    }
    return TopicsResponse(topics: result)
  }

  /// Each uplink's committed position against the log end, per partition.
  public func lag() throws -> UplinksResponse {
    let metadata = try MetadataStore(path: dataDirectory + "/weir.db")
    var ends: [String: PartitionInfo] = [:]
    var uplinks: [String: [UplinkPartitionInfo]] = [:]
    for cursor in try metadata.allCursors() where cursor.name.hasPrefix("uplink:") {
      let key = "\(cursor.topic)-\(cursor.partition)"
      let info: PartitionInfo
      if let known = ends[key] {
        info = known
      } else {
        info = try partition(cursor.topic, cursor.partition)
        ends[key] = info
      }
      uplinks[String(cursor.name.dropFirst(7)), default: []].append(
        UplinkPartitionInfo(
          topic: cursor.topic, partition: cursor.partition, remoteTopic: "", committedOffset: cursor.offset,
          confirmedOffset: cursor.offset, highWatermark: info.logEndOffset,
          lagRecords: max(0, info.logEndOffset - max(cursor.offset, info.logStartOffset)), lagSeconds: 0))
    }
    return UplinksResponse(
      uplinks: uplinks.keys.sorted().map { name in
        let partitions = uplinks[name] ?? []
        return UplinkSummary(
          name: name, kind: "", state: "stopped", connected: false, sentRecords: 0, ackedRecords: 0, errors: 0, lostRecords: 0,
          inFlightRecords: 0, lagRecords: partitions.reduce(0) { $0 + $1.lagRecords }, lagSeconds: 0, lastError: nil,
          partitions: partitions)
      })
  }
}
