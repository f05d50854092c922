public import WeirCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// The one JSON writer: builds one document at a time in a buffer that is reused for every record, so encoding
/// allocates nothing. Keys that are compile-time strings are written as they are; text from a device is escaped
/// and checked to be UTF-8. Decoders (NMEA, CSV, Modbus), alerts, gap markers, logs and tools all write through it,
/// so every JSON Weir emits is escaped one way. Not thread-safe: one owner at a time.
public final class JSONWriter {
  public let buffer: ByteBuffer
  private var depth = 0
  /// Bit `d` is set once the container at depth `d` has an item (so the next needs a comma).
  private var nonEmpty: UInt64 = 0
  private var afterKey = false

  public init(capacity: Int = 1024) {
    buffer = ByteBuffer(capacity: capacity)
  }

  public var bytes: UnsafeRawBufferPointer { buffer.bytes }

  /// Containers begun and not yet ended.
  public var openContainers: Int { depth }

  /// The separator state, to take back a value that could not be written (``add(_:bytes:)``).
  func saveState() -> (UInt64, Bool) { (nonEmpty, afterKey) }

  func restoreState(_ state: (UInt64, Bool)) {
    nonEmpty = state.0
    afterKey = state.1
  }

  public func reset() {
    buffer.removeAll()
    depth = 0
    nonEmpty = 0
    afterKey = false
  }

  /// Writes the comma a new value needs after a sibling; ``rawValue(_:)`` and writers of their own value kinds call it
  /// once before appending to ``buffer``.
  @inline(__always)
  public func beforeValue() {
    if afterKey {
      afterKey = false
      return
    }
    guard depth > 0 else { return }
    let bit: UInt64 = 1 << UInt64(depth - 1)
    if nonEmpty & bit != 0 { buffer.appendByte(UInt8(ascii: ",")) } else { nonEmpty |= bit }
  }

  public func beginObject() {
    beforeValue()
    buffer.appendByte(UInt8(ascii: "{"))
    depth += 1
    nonEmpty &= ~(1 << UInt64(depth - 1))
  }

  public func endObject() {
    depth -= 1
    buffer.appendByte(UInt8(ascii: "}"))
  }

  public func beginArray() {
    beforeValue()
    buffer.appendByte(UInt8(ascii: "["))
    depth += 1
    nonEmpty &= ~(1 << UInt64(depth - 1))
  }

  public func endArray() {
    depth -= 1
    buffer.appendByte(UInt8(ascii: "]"))
  }

  /// A key known at compile time, which needs no escaping.
  @inline(__always)
  public func key(_ name: StaticString) {
    beforeValue()
    buffer.appendByte(UInt8(ascii: "\""))
    buffer.append(UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
    append("\":")
    afterKey = true
  }

  /// A key from a device or a configuration; false when it is not UTF-8.
  @discardableResult
  public func key(_ name: UnsafeRawBufferPointer) -> Bool {
    guard string(name) else { return false }
    buffer.appendByte(UInt8(ascii: ":"))
    afterKey = true
    return true
  }

  /// `"name":` already escaped and encoded once (CSV column names); see ``encodedKey(_:)``.
  @inline(__always)
  public func encodedKey(_ prepared: UnsafeRawBufferPointer) {
    beforeValue()
    buffer.append(prepared)
    afterKey = true
  }

  /// The bytes ``encodedKey(_:)`` takes for `name`.
  public static func encodeKey(_ name: String) -> [UInt8] {
    let writer = JSONWriter(capacity: 64)
    var name = name
    _ = name.withUTF8 { writer.string(UnsafeRawBufferPointer($0)) }
    writer.buffer.appendByte(UInt8(ascii: ":"))
    return Array(writer.bytes)
  }

  public func null() {
    beforeValue()
    append("null")
  }

  public func bool(_ value: Bool) {
    beforeValue()
    append(value ? "true" : "false")
  }

  @inline(__always)
  private func append(_ text: StaticString) {
    buffer.append(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
  }

  /// A string value known at compile time.
  public func string(_ text: StaticString) {
    beforeValue()
    buffer.appendByte(UInt8(ascii: "\""))
    append(text)
    buffer.appendByte(UInt8(ascii: "\""))
  }

  /// A quoted, escaped string; false (and the buffer left part-written) when `text` is not UTF-8.
  @discardableResult
  public func string(_ text: UnsafeRawBufferPointer) -> Bool {
    beforeValue()
    buffer.appendByte(UInt8(ascii: "\""))
    guard appendEscaped(text) else { return false }
    buffer.appendByte(UInt8(ascii: "\""))
    return true
  }

  /// Escapes `text` into the buffer without quotes; false when it is not UTF-8.
  public func appendEscaped(_ text: UnsafeRawBufferPointer) -> Bool {
    var runStart = 0
    var i = 0
    let n = text.count
    while i < n {
      let byte = text[i]
      if byte >= 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") && byte < 0x80 {
        i += 1
        continue
      }
      if byte >= 0x80 {
        let length = JSONString.utf8SequenceLength(text, at: i)
        if length == 0 { return false }
        i += length
        continue
      }
      buffer.append(UnsafeRawBufferPointer(rebasing: text[runStart..<i]))
      switch byte {
      case UInt8(ascii: "\""): append("\\\"")
      case UInt8(ascii: "\\"): append("\\\\")
      case 0x0A: append("\\n")
      case 0x0D: append("\\r")
      case 0x09: append("\\t")
      default:
        append("\\u00")
        buffer.appendByte(Self.hexDigits[Int(byte >> 4)])
        buffer.appendByte(Self.hexDigits[Int(byte & 0xF)])
      }
      i += 1
      runStart = i
    }
    buffer.append(UnsafeRawBufferPointer(rebasing: text[runStart..<n]))
    return true
  }

  static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

  /// An integer.
  public func int(_ value: Int64) {
    beforeValue()
    appendInteger(value.magnitude, negative: value < 0)
  }

  public func uint(_ value: UInt64) {
    beforeValue()
    appendInteger(value, negative: false)
  }

  @inline(__always)
  private func appendInteger(_ magnitude: UInt64, negative: Bool) {
    buffer.reserve(21)
    if negative { buffer.appendByte(UInt8(ascii: "-")) }
    let start = buffer.count
    var m = magnitude
    repeat {
      buffer.appendByte(UInt8(ascii: "0") + UInt8(m % 10))
      m /= 10
    } while m > 0
    var lo = start
    var hi = buffer.count - 1
    while lo < hi {
      let a = buffer.base.load(fromByteOffset: lo, as: UInt8.self)
      buffer.base.storeBytes(of: buffer.base.load(fromByteOffset: hi, as: UInt8.self), toByteOffset: lo, as: UInt8.self)
      buffer.base.storeBytes(of: a, toByteOffset: hi, as: UInt8.self)
      lo += 1
      hi -= 1
    }
  }

  /// `value` rounded to `decimals` places, trailing zeros dropped (`48.1173`); null when not finite.
  public func fixed(_ value: Double, decimals: Int) {
    guard value.isFinite else { return null() }
    let places = min(max(decimals, 0), 15)
    var scale: UInt64 = 1
    for _ in 0..<places { scale *= 10 }
    let scaled = (value.magnitude * Double(scale)).rounded()
    guard scaled < 9.0e18 else { return double(value) }
    let units = UInt64(scaled)
    beforeValue()
    appendInteger(units / scale, negative: value < 0 && units != 0)
    var fraction = units % scale
    guard fraction != 0 else { return }
    var digits = places
    while fraction % 10 == 0 {
      fraction /= 10
      digits -= 1
    }
    buffer.appendByte(UInt8(ascii: "."))
    var width = 1
    var probe = fraction
    while probe >= 10 {
      probe /= 10
      width += 1
    }
    for _ in 0..<(digits - width) { buffer.appendByte(UInt8(ascii: "0")) }
    appendInteger(fraction, negative: false)
  }

  /// The shortest text that reads back as `value` (integral values without `.0`); null when
  /// not finite. Allocates a small string: for Modbus polls, not for the line hot path.
  public func double(_ value: Double) {
    guard value.isFinite else { return null() }
    // Whole numbers below 2^53 are exact: written as integers (`1500`, not `1500.0`).
    if value == value.rounded(), value.magnitude < 9.0e15 { return int(Int64(value)) }
    beforeValue()
    var text = value.description
    text.withUTF8 { buffer.append(UnsafeRawBufferPointer($0)) }
  }

  /// A 32-bit float with the digits a 32-bit float carries (`3.2`, not `3.200000047683716`).
  public func float(_ value: Float) {
    guard value.isFinite else { return null() }
    if value == value.rounded(), value.magnitude < 1e7 { return int(Int64(value)) }
    beforeValue()
    var text = value.description
    text.withUTF8 { buffer.append(UnsafeRawBufferPointer($0)) }
  }

  /// Bytes already encoded as JSON.
  public func raw(_ json: UnsafeRawBufferPointer) {
    beforeValue()
    buffer.append(json)
  }
}

extension JSONWriter {
  /// Opens a string value whose content the caller appends to ``buffer`` (already-safe ASCII only).
  public func beginString() {
    raw(UnsafeRawBufferPointer(start: StaticString("\"").utf8Start, count: 1))
  }

  public func endString() {
    buffer.appendByte(UInt8(ascii: "\""))
  }

  /// Appends string content the caller knows needs no escaping (digits, punctuation).
  public func content(_ bytes: UnsafeRawBufferPointer) {
    buffer.append(bytes)
  }

  public func content(_ byte: UInt8) {
    buffer.appendByte(byte)
  }

  public func content(_ text: StaticString) {
    buffer.append(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
  }
}
