/// One record inside a batch, as zero-copy views into the batch's bytes. Valid only while the
/// buffer that holds the batch is alive and unchanged.
public struct RecordView {
  public var offset: Int64
  public var timestamp: Int64
  /// nil for a null key.
  public var key: UnsafeRawBufferPointer?
  /// nil for a null value (a tombstone).
  public var value: UnsafeRawBufferPointer?
  /// The encoded headers (after the count), see ``headers``.
  public var headerBytes: UnsafeRawBufferPointer
  public var headerCount: Int

  /// The headers, parsed lazily.
  public var headers: HeaderIterator { HeaderIterator(bytes: headerBytes, count: headerCount) }

  /// The value of the first header named `name`, if any.
  public func header(_ name: String) -> UnsafeRawBufferPointer? {
    var name = name
    return name.withUTF8 { wanted in
      var it = headers
      while let h = it.next() {
        if h.key.count == wanted.count && memcmp(h.key.baseAddress!, wanted.baseAddress!, wanted.count) == 0 {
          return h.value
        }
      }
      return nil
    }
  }
}

/// One record header: a UTF-8 key and a value that may be null.
public struct HeaderView {
  public var key: UnsafeRawBufferPointer
  public var value: UnsafeRawBufferPointer?
}

/// Iterates a record's headers.
public struct HeaderIterator: IteratorProtocol {
  let bytes: UnsafeRawBufferPointer
  var remainingCount: Int
  var position = 0

  init(bytes: UnsafeRawBufferPointer, count: Int) {
    self.bytes = bytes
    self.remainingCount = count
  }

  public mutating func next() -> HeaderView? {
    guard remainingCount > 0, let base = bytes.baseAddress else { return nil }
    remainingCount -= 1
    let end = bytes.count
    guard let keyLength = Varint.read(base, end, &position), keyLength >= 0, keyLength <= end - position
    else { return nil }
    let key = UnsafeRawBufferPointer(start: base + position, count: Int(keyLength))
    position += Int(keyLength)
    guard let valueLength = Varint.read(base, end, &position) else { return nil }
    var value: UnsafeRawBufferPointer?
    if valueLength >= 0 {
      guard valueLength <= end - position else { return nil }
      value = UnsafeRawBufferPointer(start: base + position, count: Int(valueLength))
      position += Int(valueLength)
    }
    return HeaderView(key: key, value: value)
  }
}

/// Parses the records of one batch in order. A record whose framing is broken ends the iteration
/// and sets ``malformed``; a batch that passed ``RecordBatchView/validate()`` never does that
/// unless its writer was wrong.
public struct RecordIterator: IteratorProtocol {
  let base: UnsafeRawPointer
  let end: Int
  let baseOffset: Int64
  let baseTimestamp: Int64
  var remainingCount: Int
  var position: Int
  public private(set) var malformed: String?

  init(batch: RecordBatchView) {
    base = batch.bytes.baseAddress!
    end = batch.bytes.count
    baseOffset = batch.baseOffset
    baseTimestamp = batch.baseTimestamp
    remainingCount = Int(batch.recordCount)
    position = RecordBatchView.headerSize
  }

  public mutating func next() -> RecordView? {
    guard remainingCount > 0 else { return nil }
    remainingCount -= 1
    guard let length = Varint.read(base, end, &position), length > 0, length <= end - position else {
      return fail("record length")
    }
    let recordEnd = position + Int(length)
    position += 1  // attributes
    guard let timestampDelta = Varint.read(base, recordEnd, &position),
      let offsetDelta = Varint.read(base, recordEnd, &position),
      let keyLength = Varint.read(base, recordEnd, &position)
    else { return fail("record fields") }
    var key: UnsafeRawBufferPointer?
    if keyLength >= 0 {
      guard keyLength <= recordEnd - position else { return fail("key length") }
      key = UnsafeRawBufferPointer(start: base + position, count: Int(keyLength))
      position += Int(keyLength)
    }
    guard let valueLength = Varint.read(base, recordEnd, &position) else { return fail("value length") }
    var value: UnsafeRawBufferPointer?
    if valueLength >= 0 {
      guard valueLength <= recordEnd - position else { return fail("value length") }
      value = UnsafeRawBufferPointer(start: base + position, count: Int(valueLength))
      position += Int(valueLength)
    }
    guard let headerCount = Varint.read(base, recordEnd, &position), headerCount >= 0 else {
      return fail("header count")
    }
    let headers = UnsafeRawBufferPointer(start: base + position, count: recordEnd - position)
    position = recordEnd
    return RecordView(
      offset: baseOffset &+ offsetDelta, timestamp: baseTimestamp &+ timestampDelta, key: key, value: value,
      headerBytes: headers, headerCount: Int(headerCount))
  }

  private mutating func fail(_ what: String) -> RecordView? {
    malformed = "malformed \(what) at byte \(position)"
    remainingCount = 0
    return nil
  }
}

#if canImport(Glibc)
  import Glibc
#endif
