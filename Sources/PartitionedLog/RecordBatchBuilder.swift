import WeirCore

/// Builds one RecordBatch v2 (see ``RecordBatchView`` for the layout) in a reusable buffer.
///
/// Fill it with ``append(timestamp:key:value:headers:)``, hand it to ``Partition/append(_:)``, then
/// ``reset()`` and reuse it: the buffer keeps its memory, so steady-state appends allocate nothing.
/// The partition stamps the base offset and epoch; the CRC is computed here, outside any lock.
/// `@unchecked Sendable`: no lock: one owner at a time (a source fills it, the partition reads it during `append`, then the owner resets it).
public final class RecordBatchBuilder: @unchecked Sendable {
  let buffer: ByteBuffer
  public private(set) var recordCount: Int32 = 0
  public private(set) var baseTimestamp: Int64 = 0
  public private(set) var maxTimestamp: Int64 = -1
  private var sealed = false

  public init(capacity: Int = 256 * 1024) {
    buffer = ByteBuffer(capacity: capacity)
    reset()
  }

  /// Empties the builder, keeping its memory.
  public func reset() {
    buffer.removeAll()
    buffer.reserve(RecordBatchView.headerSize)
    memset(buffer.base, 0, RecordBatchView.headerSize)
    buffer.count = RecordBatchView.headerSize
    recordCount = 0
    baseTimestamp = 0
    maxTimestamp = -1
    sealed = false
  }

  public var isEmpty: Bool { recordCount == 0 }
  /// Bytes of the batch so far, header included.
  public var byteCount: Int { buffer.count }

  /// Record timestamps are clamped to ±2^61 ms (73 million years either side of 1970), so the
  /// difference of any two in a batch fits its Int64 delta; sources refuse far narrower ranges.
  public static let timestampLimit: Int64 = 1 << 61

  /// Adds one record. `key` nil is a null key; `value` nil a null value (tombstone). A timestamp
  /// past ``timestampLimit`` is stored as the limit.
  @inline(__always)
  public func append(
    timestamp rawTimestamp: Int64, key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer?,
    headers: RecordHeaders? = nil
  ) {
    let timestamp = min(max(rawTimestamp, -Self.timestampLimit), Self.timestampLimit)
    // A batch the log refused (full) stays in the builder and may grow before the next try;
    // `seal()` writes the header again.
    sealed = false
    if recordCount == 0 { baseTimestamp = timestamp }
    let timestampDelta = timestamp - baseTimestamp
    let offsetDelta = Int64(recordCount)
    let keyLength = key.map { Int64($0.count) } ?? -1
    let valueLength = value.map { Int64($0.count) } ?? -1
    let headerCount = Int64(headers?.count ?? 0)
    let headerBytes = headers?.encodedBytes.count ?? 0
    let bodySize =
      1 + Varint.size(timestampDelta) + Varint.size(offsetDelta) + Varint.size(keyLength) + max(0, Int(keyLength))
      + Varint.size(valueLength) + max(0, Int(valueLength)) + Varint.size(headerCount) + headerBytes
    buffer.reserve(bodySize + 5)
    buffer.appendVarint(Int64(bodySize))
    buffer.appendByte(0)
    buffer.appendVarint(timestampDelta)
    buffer.appendVarint(offsetDelta)
    buffer.appendVarint(keyLength)
    if let key { buffer.append(key) }
    buffer.appendVarint(valueLength)
    if let value { buffer.append(value) }
    buffer.appendVarint(headerCount)
    if let headers { buffer.append(headers.encodedBytes) }
    if timestamp > maxTimestamp { maxTimestamp = timestamp }
    recordCount += 1
  }

  /// Convenience for tests and tools: copies arrays; the hot path uses the pointer form.
  public func append(timestamp: Int64, key: [UInt8]?, value: [UInt8]?, headers: [(String, [UInt8]?)] = []) {
    let h: RecordHeaders? = headers.isEmpty ? nil : RecordHeaders()
    for (k, v) in headers {
      if let v { v.withUnsafeBytes { h!.add(k, bytes: $0) } } else { h!.add(k, bytes: nil) }
    }
    func withOptional<R>(_ a: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
      guard let a else { return body(nil) }
      return a.withUnsafeBytes { body($0) }
    }
    withOptional(key) { k in withOptional(value) { v in append(timestamp: timestamp, key: k, value: v, headers: h) } }
  }

  /// Writes the header fields and the CRC. Idempotent; the partition calls it if the caller did not.
  public func seal() {
    guard !sealed else { return }
    let b = buffer
    typealias F = RecordBatchView.Field
    b.setBigEndian(Int64(0), at: F.baseOffset)
    b.setBigEndian(Int32(b.count - RecordBatchView.logOverhead), at: F.batchLength)
    b.setBigEndian(Int32(0), at: F.partitionLeaderEpoch)
    b.base.storeBytes(of: RecordBatchView.magic, toByteOffset: F.magic, as: UInt8.self)
    b.setBigEndian(Int16(0), at: F.attributes)
    b.setBigEndian(recordCount - 1, at: F.lastOffsetDelta)
    b.setBigEndian(baseTimestamp, at: F.baseTimestamp)
    b.setBigEndian(recordCount == 0 ? -1 : maxTimestamp, at: F.maxTimestamp)
    b.setBigEndian(Int64(-1), at: F.producerId)
    b.setBigEndian(Int16(-1), at: F.producerEpoch)
    b.setBigEndian(Int32(-1), at: F.baseSequence)
    b.setBigEndian(recordCount, at: F.recordCount)
    let crc = CRC32C.checksum(UnsafeRawBufferPointer(start: b.base + F.attributes, count: b.count - F.attributes))
    b.setBigEndian(crc, at: F.crc)
    sealed = true
  }

  /// The sealed batch bytes.
  public var bytes: UnsafeRawBufferPointer {
    seal()
    return buffer.bytes
  }
}

#if canImport(Glibc)
  import Glibc
#endif
