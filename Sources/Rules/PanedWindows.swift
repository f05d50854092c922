import DequeModule

/// Tumbling and hopping windows, computed from panes.
///
/// Time is cut into panes of gcd(size, advance) milliseconds; a record updates only its pane's accumulator, and a
/// window is the merge of its size/pane panes when it closes. A tumbling window is a hopping window whose advance
/// equals its size (one pane per window). Windows are aligned to the epoch, as in Kafka Streams.
struct PanedWindows: WindowStrategy {
  struct Pane {
    var start: Int64
    var accumulator: WindowAccumulator
  }

  struct KeyWindows {
    var panes: Deque<Pane> = []
    /// The start of the first window not yet emitted (Int64.min before the first close).
    var nextStart = Int64.min
    /// Emptied accumulators kept for the next panes, so a steady stream allocates nothing.
    var spares: [WindowAccumulator] = []
  }

  let size: Int64
  let advance: Int64
  let pane: Int64

  init(size: Int64, advance: Int64) {
    self.size = size
    self.advance = advance
    pane = PanedWindows.gcd(size, advance)
  }

  static func gcd(_ x: Int64, _ y: Int64) -> Int64 {
    var (a, b) = (x, y)
    while b != 0 { (a, b) = (b, a % b) }
    return a
  }

  /// How many panes each window merges; the parser refuses windows above `RuleLimits.maximumPanesPerWindow`.
  static func panesPerWindow(size: Int64, advance: Int64) -> Int64 { size / gcd(size, advance) }

  var usesWatermark: Bool { true }

  func makeWindows() -> KeyWindows { KeyWindows() }

  func hasOpenWindows(_ w: KeyWindows) -> Bool { !w.panes.isEmpty }

  func add(
    _ values: UnsafeBufferPointer<Scalar>, time: Int64, to w: inout KeyWindows, layout: AccumulatorLayout,
    emit: (borrowing ClosedWindow) -> Void
  ) {
    let start = time.alignedDown(to: pane)
    // Records mostly arrive in order (the last pane); a binary search keeps out-of-order ones from costing a scan.
    var index = w.panes.count
    if index > 0, w.panes[index - 1].start > start {
      var low = 0
      while low < index {
        let middle = low + (index - low) / 2
        if w.panes[middle].start > start { index = middle } else { low = middle + 1 }
      }
    }
    if index > 0, w.panes[index - 1].start == start {
      w.panes[index - 1].accumulator.add(values, time: time, layout: layout)
      return
    }
    var accumulator = w.spares.popLast() ?? WindowAccumulator(layout: layout)
    accumulator.add(values, time: time, layout: layout)
    w.panes.insert(Pane(start: start, accumulator: accumulator), at: index)
  }

  func close(
    upTo watermark: Int64, _ w: inout KeyWindows, layout: AccumulatorLayout, emit: (borrowing ClosedWindow) -> Void
  ) {
    guard !w.panes.isEmpty else { return }
    var start = max((w.panes[0].start - size + 1).alignedUp(to: advance), w.nextStart)
    guard start <= watermark - size else { return }
    // Windows starting here or later still end after the watermark; never skip past it.
    let limit = (watermark - size + 1).alignedUp(to: advance)
    var merged: WindowAccumulator?
    while start + size <= watermark {
      let end = start + size
      var firstIndex = -1
      var count = 0
      for i in w.panes.indices {
        let p = w.panes[i].start
        if p >= end { break }
        if p >= start {
          if firstIndex < 0 { firstIndex = i }
          count += 1
        }
      }
      if count == 1 {
        emit(ClosedWindow(start: start, end: end, accumulator: w.panes[firstIndex].accumulator))
        start += advance
      } else if count > 1 {
        var m = merged ?? WindowAccumulator(layout: layout)
        m.reset(layout: layout)
        for i in firstIndex..<firstIndex + count { m.merge(w.panes[i].accumulator, layout: layout) }
        emit(ClosedWindow(start: start, end: end, accumulator: m))
        merged = m
        start += advance
      } else if let next = w.panes.firstIndex(where: { $0.start >= end }) {
        start = min(max(start + advance, (w.panes[next].start - size + 1).alignedUp(to: advance)), limit)
      } else {
        break  // No data left: the next window worth emitting starts here or later.
      }
      while !w.panes.isEmpty, w.panes[0].start + pane <= start {
        var spare = w.panes.removeFirst().accumulator
        if w.spares.count < 4 {
          spare.reset(layout: layout)
          w.spares.append(spare)
        }
      }
    }
    w.nextStart = start
  }

  func flush(_ w: inout KeyWindows, layout: AccumulatorLayout, emit: (borrowing ClosedWindow) -> Void) -> Int64 {
    guard let last = w.panes.last else { return w.nextStart == Int64.min ? Int64.min : w.nextStart + size - advance }
    close(upTo: last.start + pane + size, &w, layout: layout, emit: emit)
    return w.nextStart + size - advance
  }

  func encode(_ w: KeyWindows, into writer: inout CheckpointWriter) {
    writer.int(w.nextStart)
    writer.int(w.panes.count)
    for p in w.panes {
      writer.int(p.start)
      p.accumulator.encode(into: &writer)
    }
  }

  func decode(from r: inout CheckpointReader, layout: AccumulatorLayout) throws(CheckpointError) -> KeyWindows {
    var w = KeyWindows()
    w.nextStart = try r.time(or: Int64.min)
    let count = try r.count(bytesEach: 24)
    for _ in 0..<count {
      let start = try r.time()
      // The window loop relies on panes being aligned, sorted and distinct.
      guard start.alignedDown(to: pane) == start, w.panes.last.map({ $0.start < start }) ?? true else {
        throw r.error("a pane start \(start) is out of order or not aligned to \(pane) ms")
      }
      w.panes.append(Pane(start: start, accumulator: try WindowAccumulator(from: &r, layout: layout)))
    }
    return w
  }
}
