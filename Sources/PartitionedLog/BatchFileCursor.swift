import WeirCore

/// Reads the whole batches of a `.log` file in order, a chunk at a time, into a reused buffer:
/// the one framing loop that recovery, timestamp lookups, `weir log verify` and `weir log dump`
/// share. It checks framing only (each caller decides what to validate). A returned batch is valid
/// until the next call.
struct BatchFileCursor {
  let fd: Int32
  let path: String
  let end: Int64
  private let buffer: ByteBuffer
  /// File position of `buffer[0]`.
  private var bufferStart: Int64
  /// Bytes of the buffer already returned.
  private var consumed = 0
  /// Why the batches ended before `end` (broken framing or a batch cut short); nil at the end.
  private(set) var stopReason: String?

  init(fd: Int32, path: String, from: Int64, to end: Int64, buffer: ByteBuffer) {
    self.fd = fd
    self.path = path
    self.end = end
    self.buffer = buffer
    bufferStart = from
    buffer.removeAll()
  }

  /// File position of the next batch.
  var position: Int64 { bufferStart + Int64(consumed) }

  /// The next whole batch and its file position, or nil (see ``stopReason``).
  mutating func next() throws(LogError) -> (batch: RecordBatchView, position: Int64)? {
    while true {
      let available = buffer.count - consumed
      var needed = RecordBatchView.logOverhead
      if available >= RecordBatchView.logOverhead {
        let length = Int(
          UnsafeRawPointer(buffer.base).loadBigEndian(at: consumed + RecordBatchView.Field.batchLength, as: Int32.self))
        if length < RecordBatchView.headerSize - RecordBatchView.logOverhead {
          stopReason = "batch length \(length) is below the minimum header size"
          return nil
        }
        needed = length + RecordBatchView.logOverhead
        if available >= needed {
          let at = position
          let batch = RecordBatchView(UnsafeRawBufferPointer(start: buffer.base + consumed, count: needed))
          consumed += needed
          return (batch, at)
        }
      }
      let fileLeft = end - (bufferStart + Int64(buffer.count))
      if fileLeft <= 0 {
        if available > 0 { stopReason = "incomplete batch (\(available) bytes at the end)" }
        return nil
      }
      buffer.removeFirst(consumed)
      bufferStart += Int64(consumed)
      consumed = 0
      let want = min(Int64(max(1 << 20, needed - buffer.count)), fileLeft)
      buffer.reserve(Int(want))
      buffer.count += try Posix.pread(
        fd, buffer.base + buffer.count, Int(want), at: bufferStart + Int64(buffer.count), path)
    }
  }
}
