import DequeModule

/// Session windows: a key's records less than `gap` apart share a window, which ends `gap` after its last record.
///
/// A record opens [t, t + gap); windows that overlap merge, which also joins two sessions when a late record
/// bridges them. A session closes when the key's watermark reaches its end.
struct SessionWindows: WindowStrategy {
  struct Session {
    var start: Int64
    var end: Int64
    var accumulator: WindowAccumulator
  }

  struct KeyWindows {
    /// Sorted and disjoint; a deque, so sessions arriving newest first are inserted at the front in O(1).
    var sessions: Deque<Session> = []
  }

  let gap: Int64

  var usesWatermark: Bool { true }

  func makeWindows() -> KeyWindows { KeyWindows() }

  func hasOpenWindows(_ w: KeyWindows) -> Bool { !w.sessions.isEmpty }

  func add(
    _ values: UnsafeBufferPointer<Scalar>, time: Int64, to w: inout KeyWindows, layout: AccumulatorLayout,
    emit: (borrowing ClosedWindow) -> Void
  ) {
    let end = time + gap
    // Sessions are sorted and disjoint, so their ends are sorted too: the ones this record touches are a run that
    // starts at the first session ending after it.
    var low = 0
    var high = w.sessions.count
    while low < high {
      let middle = low + (high - low) / 2
      if w.sessions[middle].end > time { high = middle } else { low = middle + 1 }
    }
    var first = -1
    var last = -1
    var i = low
    while i < w.sessions.count, w.sessions[i].start < end {
      if first < 0 { first = i }
      last = i
      i += 1
    }
    if first < 0 {
      var accumulator = WindowAccumulator(layout: layout)
      accumulator.add(values, time: time, layout: layout)
      w.sessions.insert(Session(start: time, end: end, accumulator: accumulator), at: low)
      return
    }
    w.sessions[first].accumulator.add(values, time: time, layout: layout)
    w.sessions[first].start = min(w.sessions[first].start, time)
    w.sessions[first].end = max(w.sessions[first].end, end)
    if last > first {
      for i in first + 1...last {
        let other = w.sessions[i]
        w.sessions[first].accumulator.merge(other.accumulator, layout: layout)
        w.sessions[first].end = max(w.sessions[first].end, other.end)
      }
      w.sessions.removeSubrange(first + 1...last)
    }
  }

  func close(
    upTo watermark: Int64, _ w: inout KeyWindows, layout: AccumulatorLayout, emit: (borrowing ClosedWindow) -> Void
  ) {
    var closed = 0
    while closed < w.sessions.count, w.sessions[closed].end <= watermark {
      let s = w.sessions[closed]
      emit(ClosedWindow(start: s.start, end: s.end, accumulator: s.accumulator))
      closed += 1
    }
    // One removal for the lot: removing them one by one from the front would be quadratic.
    if closed > 0 { w.sessions.removeFirst(closed) }
  }

  func flush(_ w: inout KeyWindows, layout: AccumulatorLayout, emit: (borrowing ClosedWindow) -> Void) -> Int64 {
    let bound = w.sessions.map(\.end).max() ?? Int64.min
    close(upTo: Int64.max, &w, layout: layout, emit: emit)
    return bound
  }

  func encode(_ w: KeyWindows, into writer: inout CheckpointWriter) {
    writer.int(w.sessions.count)
    for s in w.sessions {
      writer.int(s.start)
      writer.int(s.end)
      s.accumulator.encode(into: &writer)
    }
  }

  func decode(from r: inout CheckpointReader, layout: AccumulatorLayout) throws(CheckpointError) -> KeyWindows {
    var w = KeyWindows()
    let count = try r.count(bytesEach: 32)
    for _ in 0..<count {
      let start = try r.time()
      let end = try r.time()
      // `add` binary-searches the sessions: they must be sorted and disjoint.
      guard start < end, w.sessions.last.map({ $0.end <= start }) ?? true else {
        throw r.error("a session [\(start), \(end)) is empty, out of order or overlaps the one before")
      }
      w.sessions.append(Session(start: start, end: end, accumulator: try WindowAccumulator(from: &r, layout: layout)))
    }
    return w
  }
}
