/// The fixed header that starts every MQTT packet (MQTT 3.1.1 section 2.2, 5.0 section 2.1.1):
///
///     byte 0      bits 7-4 packet type, bits 3-0 flags (PUBLISH: DUP, QoS 2 bits, RETAIN)
///     bytes 1..4  Remaining Length: a variable byte integer, 7 bits per byte, least
///                 significant group first, bit 7 set on every byte but the last; at most
///                 4 bytes, so at most 268,435,455
///     then        Remaining Length bytes: the variable header and the payload
public struct FixedHeader: Equatable, Sendable {
  public var type: PacketType
  public var flags: UInt8
  /// Bytes of the fixed header itself (2 to 5).
  public var headerLength: Int
  /// Bytes after the fixed header.
  public var remainingLength: Int

  /// The whole packet's size in bytes.
  public var packetLength: Int { headerLength + remainingLength }
}

/// What the bytes at the start of a read buffer hold.
public enum FrameScan: Equatable, Sendable {
  /// Not a whole packet yet: read more. `needed` is the whole packet's size once the fixed header
  /// is complete (nil while it is not).
  case incomplete(needed: Int?)
  /// A whole packet of `header.packetLength` bytes.
  case packet(FixedHeader)
  /// A packet larger than allowed (`size` bytes): close the connection with 0x95.
  case tooLarge(size: Int)
  /// Not MQTT: close the connection with the error's reason code.
  case malformed(WireError)
}

public enum Frame {
  /// The largest Remaining Length a variable byte integer of 4 bytes holds.
  public static let maxRemainingLength = 268_435_455

  /// Reads the fixed header at the start of `bytes`. A packet whose total size exceeds
  /// `maxPacket` is refused as soon as its length is known, before its body is read.
  public static func scan(_ bytes: UnsafeRawBufferPointer, maxPacket: Int) -> FrameScan {
    guard bytes.count >= 2 else { return .incomplete(needed: nil) }
    let first = bytes[0]
    guard let type = PacketType(rawValue: first >> 4) else {
      return .malformed(.malformed("packet type 0 is reserved"))
    }
    let flags = first & 0x0F
    if let required = type.requiredFlags, flags != required {
      return .malformed(.malformed("the fixed header's flags are wrong for the packet type"))
    }
    if type == .publish, flags & 0b0110 == 0b0110 { return .malformed(.malformed("PUBLISH with QoS 3")) }
    var length = 0
    var shift = 0
    var i = 1
    while true {
      guard i < bytes.count else { return .incomplete(needed: nil) }
      let b = bytes[i]
      length |= Int(b & 0x7F) << shift
      i += 1
      if b & 0x80 == 0 { break }
      shift += 7
      guard i < 5 else { return .malformed(.malformed("the remaining length is longer than 4 bytes")) }
    }
    let header = FixedHeader(type: type, flags: flags, headerLength: i, remainingLength: length)
    if header.packetLength > maxPacket { return .tooLarge(size: header.packetLength) }
    if bytes.count < header.packetLength { return .incomplete(needed: header.packetLength) }
    return .packet(header)
  }
}

/// A bounded cursor over one packet's bytes. Every read checks the bounds and throws
/// ``WireError`` (malformed) past them; nothing is copied, views point into the packet.
public struct WireReader {
  public let bytes: UnsafeRawBufferPointer
  public private(set) var position: Int

  public init(_ bytes: UnsafeRawBufferPointer, position: Int = 0) {
    self.bytes = bytes
    self.position = position
  }

  public var remaining: Int { bytes.count - position }
  public var isAtEnd: Bool { position >= bytes.count }

  public mutating func byte() throws(WireError) -> UInt8 {
    guard position < bytes.count else { throw .malformed("the packet ends inside a field") }
    defer { position += 1 }
    return bytes[position]
  }

  /// A Two Byte Integer, big-endian.
  public mutating func uint16() throws(WireError) -> UInt16 {
    guard remaining >= 2 else { throw .malformed("the packet ends inside a two-byte integer") }
    defer { position += 2 }
    return UInt16(bytes[position]) << 8 | UInt16(bytes[position + 1])
  }

  /// A Four Byte Integer, big-endian.
  public mutating func uint32() throws(WireError) -> UInt32 {
    guard remaining >= 4 else { throw .malformed("the packet ends inside a four-byte integer") }
    defer { position += 4 }
    var v: UInt32 = 0
    for k in 0..<4 { v = v << 8 | UInt32(bytes[position + k]) }
    return v
  }

  /// A Variable Byte Integer (1 to 4 bytes, 7 bits each, least significant first). MQTT 5.0
  /// 1.5.5: the smallest number of bytes must be used, so a needless trailing 0x80/0x00 is
  /// malformed too.
  public mutating func varint() throws(WireError) -> Int {
    var value = 0
    var shift = 0
    for k in 0..<4 {
      let b = try byte()
      value |= Int(b & 0x7F) << shift
      if b & 0x80 == 0 {
        if k > 0 && b == 0 { throw .malformed("a variable byte integer is not in its shortest form") }
        return value
      }
      shift += 7
    }
    throw .malformed("a variable byte integer is longer than 4 bytes")
  }

  /// `count` bytes as a view.
  public mutating func bytes(_ count: Int) throws(WireError) -> UnsafeRawBufferPointer {
    guard count >= 0, remaining >= count else { throw .malformed("a field is longer than the packet") }
    defer { position += count }
    return UnsafeRawBufferPointer(rebasing: bytes[position..<position + count])
  }

  /// Binary Data: a two-byte length, then that many bytes.
  public mutating func binary() throws(WireError) -> UnsafeRawBufferPointer {
    try bytes(Int(try uint16()))
  }

  /// A UTF-8 Encoded String: a two-byte length, then well-formed UTF-8 (no overlong forms, no
  /// surrogates, nothing above U+10FFFF) without U+0000 (MQTT 5.0 1.5.4, 3.1.1 1.5.3).
  public mutating func string() throws(WireError) -> UnsafeRawBufferPointer {
    let s = try binary()
    try UTF8Check.validate(s)
    return s
  }

  /// Everything left.
  public mutating func rest() -> UnsafeRawBufferPointer {
    defer { position = bytes.count }
    return UnsafeRawBufferPointer(rebasing: bytes[position...])
  }
}
