import Metrics

/// Why a consumer stepped over offsets without reading their records.
public enum SkipReason: String, Sendable {
  /// Retention deleted them before the consumer read them.
  case retention
  /// A batch failed its CRC or framing check (a damaged segment), or vanished.
  case corrupt
}

/// What a consumer finds at its position.
public enum ConsumerRead {
  /// Whole batches to process (see ``ReadResult``).
  case batches(ReadResult)
  /// Offsets `from..<to` cannot be read: count them, say so once, and carry on at `to`.
  case skip(from: Int64, to: Int64, reason: SkipReason)
  /// Nothing to read yet: the position is at the high watermark.
  case caughtUp
}

extension PartitionReader {
  /// Reads at `offset` like ``read(from:maxBytes:)``, but turns what no consumer can ever read
  /// (deleted by retention, damaged on disk) into a range to skip, so every consumer steps over
  /// it the same way instead of stopping. Other failures (I/O) are thrown. `limit` bounds a skip
  /// past a damaged batch (the offset after the stretch the caller reads).
  public func readOrSkip(from offset: Int64, maxBytes: Int = 1 << 20, limit: Int64? = nil) throws(LogError)
    -> ConsumerRead
  {
    do {
      let result = try read(from: offset, maxBytes: maxBytes)
      return result.isEmpty ? .caughtUp : .batches(result)
    } catch {
      switch error.code {
      case .offsetOutOfRange:
        let start = partition.logStartOffset
        if offset < start { return .skip(from: offset, to: min(start, limit ?? start), reason: .retention) }
        return .caughtUp  // past the log end: nothing there yet
      case .corrupt:
        return .skip(from: offset, to: firstReadable(after: offset, limit: limit), reason: .corrupt)
      default:
        throw error
      }
    }
  }

  /// The first offset after `bad` that reads without a corruption error: probes forward in
  /// doubling steps, then bisects, so a damaged batch costs a few dozen index lookups.
  public func firstReadable(after bad: Int64, limit: Int64? = nil) -> Int64 {
    let end = min(partition.highWatermark, limit ?? Int64.max)
    func readable(_ offset: Int64) -> Bool {
      do {
        _ = try read(from: offset, maxBytes: 1)
        return true
      } catch {
        return error.code != .corrupt
      }
    }
    var low = bad
    var step: Int64 = 1
    var high = end
    while low < end - step {
      if readable(low + step) {
        high = low + step
        break
      }
      low += step
      step = step > Int64.max / 4 ? step : step * 2
    }
    while high - low > 1 {
      let mid = low + (high - low) / 2
      if readable(mid) { high = mid } else { low = mid }
    }
    return max(high, bad + 1)
  }
}

/// Counts offsets a consumer stepped over without reading them, the same way for every consumer:
/// `weir_consumer_skipped_records_total{consumer, topic, reason}`.
public enum ConsumerSkips {
  public static func count(consumer: String, topic: String, records: Int64, reason: SkipReason) {
    guard records > 0 else { return }
    Counter(
      label: "weir_consumer_skipped_records_total",
      dimensions: [("consumer", consumer), ("topic", topic), ("reason", reason.rawValue)]
    ).increment(by: records)
  }
}
