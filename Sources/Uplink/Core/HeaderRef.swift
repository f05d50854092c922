/// A record header as pointers the caller keeps valid for the duration of one send.
public struct HeaderRef {
  public var name: UnsafeRawBufferPointer
  /// nil is Kafka's null header value.
  public var value: UnsafeRawBufferPointer?

  public init(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer?) {
    self.name = name
    self.value = value
  }

  /// Bytes of name and value, as the bandwidth cap counts them.
  @inline(__always) var byteCount: Int { name.count + (value?.count ?? 0) }
}
