import DequeModule

/// Sliding windows: one window per record, covering the `size` milliseconds up to and including its event time.
///
/// A record is evaluated once the watermark reaches its event time, so records that arrive out of order within the
/// allowed lateness still see every earlier record. The window is kept with the two-stacks algorithm: the front
/// part holds suffix aggregates (evicting is a pop), the back part one running aggregate (adding is a merge), so
/// each record costs amortised O(1) merges and no subtraction ever loses precision.
struct SlidingWindows: WindowStrategy {
  struct Item {
    var time: Int64
    var accumulator: WindowAccumulator
  }

  struct KeyWindows {
    /// Records not yet evaluated, by event time.
    var pending: Deque<Item> = []
    /// Records in the current window, by event time.
    var items: Deque<Item> = []
    /// Suffix aggregates of the first `suffixes.count` items.
    var suffixes: Deque<WindowAccumulator> = []
    var back: WindowAccumulator?
  }

  let size: Int64

  var usesWatermark: Bool { true }

  func makeWindows() -> KeyWindows { KeyWindows() }

  func hasOpenWindows(_ w: KeyWindows) -> Bool { !w.pending.isEmpty }

  func add(
    _ values: UnsafeBufferPointer<Scalar>, time: Int64, to w: inout KeyWindows, layout: AccumulatorLayout,
    emit: (borrowing ClosedWindow) -> Void
  ) {
    var accumulator = WindowAccumulator(layout: layout)
    accumulator.add(values, time: time, layout: layout)
    // After every pending record of the same time or earlier; a binary search, so records out of order cost no scan.
    var index = w.pending.count
    if index > 0, w.pending[index - 1].time > time {
      var low = 0
      while low < index {
        let middle = low + (index - low) / 2
        if w.pending[middle].time > time { index = middle } else { low = middle + 1 }
      }
    }
    w.pending.insert(Item(time: time, accumulator: accumulator), at: index)
  }

  func close(
    upTo watermark: Int64, _ w: inout KeyWindows, layout: AccumulatorLayout, emit: (borrowing ClosedWindow) -> Void
  ) {
    while let item = w.pending.first, item.time <= watermark {
      w.pending.removeFirst()
      w.items.append(item)
      if w.back == nil { w.back = WindowAccumulator(layout: layout) }
      w.back!.merge(item.accumulator, layout: layout)
      while let oldest = w.items.first, oldest.time <= item.time - size {
        if w.suffixes.isEmpty { flip(&w, layout: layout) }
        w.items.removeFirst()
        w.suffixes.removeFirst()
      }
      var window = w.suffixes.first ?? WindowAccumulator(layout: layout)
      if let back = w.back { window.merge(back, layout: layout) }
      emit(ClosedWindow(start: item.time - size, end: item.time, accumulator: window))
    }
  }

  /// Moves every item to the front part, computing its suffix aggregates.
  private func flip(_ w: inout KeyWindows, layout: AccumulatorLayout) {
    var suffix = WindowAccumulator(layout: layout)
    var built: [WindowAccumulator] = []
    built.reserveCapacity(w.items.count)
    for item in w.items.reversed() {
      var combined = item.accumulator
      combined.merge(suffix, layout: layout)
      suffix = combined
      built.append(combined)
    }
    w.suffixes = Deque(built.reversed())
    w.back = WindowAccumulator(layout: layout)
  }

  func flush(_ w: inout KeyWindows, layout: AccumulatorLayout, emit: (borrowing ClosedWindow) -> Void) -> Int64 {
    close(upTo: Int64.max, &w, layout: layout, emit: emit)
    return w.items.last?.time ?? Int64.min
  }

  func encode(_ w: KeyWindows, into writer: inout CheckpointWriter) {
    // The suffix aggregates are derived data: only the items are saved, and the two stacks are rebuilt on restore.
    for list in [w.pending, w.items] {
      writer.int(list.count)
      for item in list {
        writer.int(item.time)
        item.accumulator.encode(into: &writer)
      }
    }
  }

  func decode(from r: inout CheckpointReader, layout: AccumulatorLayout) throws(CheckpointError) -> KeyWindows {
    var w = KeyWindows()
    for part in 0..<2 {
      let count = try r.count(bytesEach: 24)
      var previous = Int64.min
      for _ in 0..<count {
        let time = try r.time()
        guard time >= previous else { throw r.error("a sliding window's records are out of order") }
        previous = time
        let item = Item(time: time, accumulator: try WindowAccumulator(from: &r, layout: layout))
        if part == 0 { w.pending.append(item) } else { w.items.append(item) }
      }
    }
    if !w.items.isEmpty { flip(&w, layout: layout) }
    return w
  }
}
