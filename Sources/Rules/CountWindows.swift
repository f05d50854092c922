/// Count windows: every `size` records of a key form a window, in processing order; nothing is ever late.
///
/// The window's bounds are the earliest and latest event times of its records.
struct CountWindows: WindowStrategy {
  struct KeyWindows {
    var accumulator: WindowAccumulator?
    var start = Int64.max
    var end = Int64.min
  }

  let size: Int

  var usesWatermark: Bool { false }

  func makeWindows() -> KeyWindows { KeyWindows() }

  func hasOpenWindows(_ w: KeyWindows) -> Bool { (w.accumulator?.records ?? 0) > 0 }

  func add(
    _ values: UnsafeBufferPointer<Scalar>, time: Int64, to w: inout KeyWindows, layout: AccumulatorLayout,
    emit: (borrowing ClosedWindow) -> Void
  ) {
    if w.accumulator == nil { w.accumulator = WindowAccumulator(layout: layout) }
    w.accumulator!.add(values, time: time, layout: layout)
    w.start = min(w.start, time)
    w.end = max(w.end, time)
    if w.accumulator!.records >= Int64(size) { emitAndReset(&w, layout: layout, emit: emit) }
  }

  private func emitAndReset(_ w: inout KeyWindows, layout: AccumulatorLayout, emit: (borrowing ClosedWindow) -> Void) {
    guard let accumulator = w.accumulator, accumulator.records > 0 else { return }
    emit(ClosedWindow(start: w.start, end: w.end, accumulator: accumulator))
    w.accumulator!.reset(layout: layout)
    w.start = Int64.max
    w.end = Int64.min
  }

  func close(
    upTo watermark: Int64, _ w: inout KeyWindows, layout: AccumulatorLayout, emit: (borrowing ClosedWindow) -> Void
  ) {}

  func flush(_ w: inout KeyWindows, layout: AccumulatorLayout, emit: (borrowing ClosedWindow) -> Void) -> Int64 {
    emitAndReset(&w, layout: layout, emit: emit)
    return Int64.min
  }

  func encode(_ w: KeyWindows, into writer: inout CheckpointWriter) {
    writer.bool(w.accumulator != nil)
    w.accumulator?.encode(into: &writer)
    writer.int(w.start)
    writer.int(w.end)
  }

  func decode(from r: inout CheckpointReader, layout: AccumulatorLayout) throws(CheckpointError) -> KeyWindows {
    var w = KeyWindows()
    if try r.bool() { w.accumulator = try WindowAccumulator(from: &r, layout: layout) }
    w.start = try r.time(or: Int64.max)
    w.end = try r.time(or: Int64.min)
    return w
  }
}
