import WeirCore

/// Headers for one record, encoded as they will sit in the batch. Reuse one instance: ``removeAll()``
/// keeps its memory, so adding headers allocates nothing once it has grown.
/// `@unchecked Sendable`: no lock: one owner at a time, like the batch builder it fills.
public final class RecordHeaders: @unchecked Sendable {
  let buffer = ByteBuffer(capacity: 256)
  public private(set) var count = 0

  public init() {}

  public func removeAll() {
    buffer.removeAll()
    count = 0
  }

  /// Adds a header; a nil value is Kafka's null header value.
  public func add(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer?) {
    buffer.appendVarint(Int64(key.count))
    buffer.append(key)
    if let value {
      buffer.appendVarint(Int64(value.count))
      buffer.append(value)
    } else {
      buffer.appendVarint(-1)
    }
    count += 1
  }

  public func add(_ key: String, _ value: String) {
    var key = key
    var value = value
    key.withUTF8 { k in value.withUTF8 { v in add(key: UnsafeRawBufferPointer(k), value: UnsafeRawBufferPointer(v)) } }
  }

  public func add(_ key: String, bytes value: UnsafeRawBufferPointer?) {
    var key = key
    key.withUTF8 { k in add(key: UnsafeRawBufferPointer(k), value: value) }
  }

  /// Appends every header of `other`.
  public func append(contentsOf other: RecordHeaders) {
    buffer.append(other.buffer.bytes)
    count += other.count
  }

  var encodedBytes: UnsafeRawBufferPointer { buffer.bytes }

  /// Bytes of the encoded headers, as they add to a record's size.
  public var byteCount: Int { buffer.count }
}
