/// A window that has closed: its bounds in epoch milliseconds and its statistics.
struct ClosedWindow {
  var start: Int64
  var end: Int64
  var accumulator: WindowAccumulator
}

/// How one window type assigns a key's records to windows and decides when they close.
///
/// A strategy is stateless across keys; each key's open windows live in its `KeyWindows` value, which the rule
/// runtime stores per key and checkpoints through `encode`/`decode`.
protocol WindowStrategy {
  associatedtype KeyWindows

  /// False for windows that close on record counts rather than event time (no watermark, nothing is late).
  var usesWatermark: Bool { get }

  func makeWindows() -> KeyWindows

  /// Adds one on-time record.
  func add(
    _ values: UnsafeBufferPointer<Scalar>, time: Int64, to windows: inout KeyWindows, layout: AccumulatorLayout,
    emit: (borrowing ClosedWindow) -> Void)

  /// Closes, in end order, every window that the watermark has passed.
  func close(
    upTo watermark: Int64, _ windows: inout KeyWindows, layout: AccumulatorLayout,
    emit: (borrowing ClosedWindow) -> Void)

  /// Closes every open window (idle timeout) and returns the earliest event time that is still on time after it.
  func flush(_ windows: inout KeyWindows, layout: AccumulatorLayout, emit: (borrowing ClosedWindow) -> Void) -> Int64

  func hasOpenWindows(_ windows: KeyWindows) -> Bool

  func encode(_ windows: KeyWindows, into writer: inout CheckpointWriter)

  func decode(from reader: inout CheckpointReader, layout: AccumulatorLayout) throws(CheckpointError) -> KeyWindows
}

extension Int64 {
  /// The largest multiple of `step` not above self.
  @inline(__always) func alignedDown(to step: Int64) -> Int64 {
    let r = self % step
    return r < 0 ? self - r - step : self - r
  }

  /// The smallest multiple of `step` not below self.
  @inline(__always) func alignedUp(to step: Int64) -> Int64 {
    let down = alignedDown(to: step)
    return down == self ? self : down + step
  }
}
