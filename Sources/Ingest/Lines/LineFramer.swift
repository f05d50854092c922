#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Splits a serial byte stream into lines in one buffer that is reused for the life of the
/// source. The port reads straight into the buffer's free tail (``readSpace``); complete lines
/// are handed out as views into it, and only the unfinished tail is moved to the front.
/// A line longer than the maximum is reported once with its first `maxLineLength` bytes, and the
/// rest of it is skipped up to the next terminator. The consumer may stop the framing after any
/// piece (its output budget is spent): the bytes not yet framed stay in the buffer until
/// ``frameBuffered(_:)``. Not thread-safe.
final class LineFramer {
  /// What the framer found.
  enum Piece {
    /// A line without its terminator (nor the `\r` of a `\r\n`, nor the `\n` after a `\r` terminator).
    case line(UnsafeRawBufferPointer)
    /// The first `maxLineLength` bytes of a line that was longer.
    case tooLong(UnsafeRawBufferPointer)
  }

  let maxLineLength: Int
  let terminator: LineProtocolConfig.Terminator
  private let storage: UnsafeMutableRawBufferPointer
  private var start = 0
  private var end = 0
  /// Bytes before this (from `start`) have been looked at and hold no terminator; it is `end`
  /// unless the consumer stopped the framing early.
  private var scanned = 0
  /// Inside a line already reported as too long: bytes are dropped up to its terminator.
  private var discarding = false
  /// With `cr` terminators: drop a `\n` right after a `\r` (the device sends `\r\n`).
  private var skipLineFeed = false

  init(maxLineLength: Int, terminator: LineProtocolConfig.Terminator, readChunk: Int = 16 * 1024) {
    self.maxLineLength = maxLineLength
    self.terminator = terminator
    storage = UnsafeMutableRawBufferPointer.allocate(byteCount: maxLineLength + 1 + readChunk, alignment: 16)
  }

  deinit { storage.deallocate() }

  /// Free space after the unfinished line: read into it, then call ``consume(_:_:)``.
  var readSpace: UnsafeMutableRawBufferPointer {
    if start > 0 {
      if end > start { memmove(storage.baseAddress!, storage.baseAddress! + start, end - start) }
      end -= start
      scanned -= start
      start = 0
    }
    return UnsafeMutableRawBufferPointer(rebasing: storage[end...])
  }

  /// Bytes of an unfinished line held for the next read.
  var pendingCount: Int { end - start }

  /// Bytes were received but not framed yet because the consumer stopped: call
  /// ``frameBuffered(_:)`` before reading more.
  var hasUnframed: Bool { scanned < end }

  /// Takes `count` bytes just read into ``readSpace`` and hands every complete line (or too-long
  /// prefix) to `body`, in order, while `body` returns true. The views are valid only during the call.
  @inline(__always)
  func consume(_ count: Int, _ body: (Piece) -> Bool) {
    end += count
    frameBuffered(body)
  }

  /// Frames what is in the buffer and not framed yet, as ``consume(_:_:)`` does.
  func frameBuffered(_ body: (Piece) -> Bool) {
    let base = UnsafeRawPointer(storage.baseAddress!)
    var scan = scanned
    let byte: Int32 = terminator == .lf ? 0x0A : 0x0D
    while scan < end {
      if skipLineFeed {
        skipLineFeed = false
        if base.load(fromByteOffset: scan, as: UInt8.self) == 0x0A {
          if start == scan { start += 1 }
          scan += 1
          continue
        }
      }
      guard let hit = memchr(base + scan, byte, end - scan) else { break }
      let at = base.distance(to: UnsafeRawPointer(hit))
      var lineEnd = at
      if terminator == .lf && lineEnd > start && base.load(fromByteOffset: lineEnd - 1, as: UInt8.self) == 0x0D {
        lineEnd -= 1
      }
      if terminator == .cr { skipLineFeed = true }
      var more = true
      if discarding {
        discarding = false
      } else if lineEnd - start > maxLineLength {
        more = body(.tooLong(UnsafeRawBufferPointer(start: base + start, count: maxLineLength)))
      } else {
        more = body(.line(UnsafeRawBufferPointer(start: base + start, count: lineEnd - start)))
      }
      start = at + 1
      scan = start
      if !more {
        scanned = scan
        return
      }
    }
    scanned = end
    if discarding {
      start = end
    } else if end - start > maxLineLength {
      // The budget may be spent already; one more piece is within what it allows for.
      _ = body(.tooLong(UnsafeRawBufferPointer(start: base + start, count: maxLineLength)))
      discarding = true
      start = end
    }
  }

  /// Removes and returns the unfinished line (the device went away or the source is stopping);
  /// nil when there is none. Frame what is buffered first: lines not framed yet would be taken
  /// for one. The view is valid until the next read.
  func takePartial() -> UnsafeRawBufferPointer? {
    defer { reset() }
    guard !discarding, end > start else { return nil }
    return UnsafeRawBufferPointer(start: storage.baseAddress! + start, count: end - start)
  }

  func reset() {
    start = 0
    end = 0
    scanned = 0
    discarding = false
    skipLineFeed = false
  }
}
