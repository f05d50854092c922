/// Confirmed offset ranges above a partition's confirmed prefix, merged as they arrive.
struct OffsetRangeSet {
  private(set) var ranges: [(lower: Int64, upper: Int64)] = []

  var isEmpty: Bool { ranges.isEmpty }

  /// Adds `lower..<upper`; returns the new contiguous end when `confirmed` can advance.
  @inline(__always)
  mutating func confirm(_ lower: Int64, _ upper: Int64, after confirmed: Int64) -> Int64 {
    if ranges.isEmpty && lower <= confirmed { return max(confirmed, upper) }
    insert(lower, upper)
    var end = confirmed
    while let first = ranges.first, first.lower <= end {
      end = max(end, first.upper)
      ranges.removeFirst()
    }
    return end
  }

  private mutating func insert(_ lower: Int64, _ upper: Int64) {
    if let last = ranges.last, lower >= last.lower {
      if lower <= last.upper {
        ranges[ranges.count - 1].upper = max(last.upper, upper)
      } else {
        ranges.append((lower, upper))
      }
      return
    }
    var i = ranges.firstIndex { $0.lower > lower } ?? ranges.count
    ranges.insert((lower, upper), at: i)
    if i > 0 && ranges[i - 1].upper >= lower {
      ranges[i - 1].upper = max(ranges[i - 1].upper, ranges[i].upper)
      ranges.remove(at: i)
      i -= 1
    }
    while i + 1 < ranges.count && ranges[i].upper >= ranges[i + 1].lower {
      ranges[i].upper = max(ranges[i].upper, ranges[i + 1].upper)
      ranges.remove(at: i + 1)
    }
  }

  mutating func removeAll() { ranges.removeAll() }
}
