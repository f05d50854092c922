import PartitionedLog
import WeirCore

/// Turns a partition's new durable data into a wake-up of the uplink's thread.
enum LogWatcher {
  /// Wakes the loop whenever a partition's high watermark moves.
  static func watch(_ partition: Partition, _ wakeup: WakePipe) async {
    var seen = partition.highWatermark
    while !Task.isCancelled {
      await partition.waitForData(after: seen)
      let now = partition.highWatermark
      if now == seen {
        // Closed partition or cancellation: do not spin.
        try? await Task.sleep(nanoseconds: 100_000_000)
        continue
      }
      seen = now
      wakeup.signal()
    }
  }
}
