import PartitionedLog
import Payload

/// Builds one JSON document at a time in a buffer that is reused for every record, so decoding
/// a line allocates nothing. Keys that are compile-time strings are written as they are; text
/// from a device is escaped and checked to be UTF-8. Not thread-safe.
final class SerialJSONWriter {
  let buffer: ByteBuffer
  private var depth = 0
  /// Bit `d` is set once the container at depth `d` has an item (so the next needs a comma).
  private var nonEmpty: UInt64 = 0
  private var afterKey = false

  init(capacity: Int = 1024) {
    buffer = ByteBuffer(capacity: capacity)
  }

  var bytes: UnsafeRawBufferPointer { buffer.bytes }

  func reset() {
    buffer.removeAll()
    depth = 0
    nonEmpty = 0
    afterKey = false
  }

  @inline(__always)
  private func beforeValue() {
    if afterKey {
      afterKey = false
      return
    }
    guard depth > 0 else { return }
    let bit: UInt64 = 1 << UInt64(depth - 1)
    if nonEmpty & bit != 0 { buffer.appendByte(UInt8(ascii: ",")) } else { nonEmpty |= bit }
  }

  func beginObject() {
    beforeValue()
    buffer.appendByte(UInt8(ascii: "{"))
    depth += 1
    nonEmpty &= ~(1 << UInt64(depth - 1))
  }

  func endObject() {
    depth -= 1
    buffer.appendByte(UInt8(ascii: "}"))
  }

  func beginArray() {
    beforeValue()
    buffer.appendByte(UInt8(ascii: "["))
    depth += 1
    nonEmpty &= ~(1 << UInt64(depth - 1))
  }

  func endArray() {
    depth -= 1
    buffer.appendByte(UInt8(ascii: "]"))
  }

  /// A key known at compile time, which needs no escaping.
  @inline(__always)
  func key(_ name: StaticString) {
    beforeValue()
    buffer.appendByte(UInt8(ascii: "\""))
    buffer.append(UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
    append("\":")
    afterKey = true
  }

  /// A key from a device or a configuration; false when it is not UTF-8.
  @discardableResult
  func key(_ name: UnsafeRawBufferPointer) -> Bool {
    guard string(name) else { return false }
    buffer.appendByte(UInt8(ascii: ":"))
    afterKey = true
    return true
  }

  /// `"name":` already escaped and encoded once (CSV column names); see ``encodedKey(_:)``.
  @inline(__always)
  func encodedKey(_ prepared: UnsafeRawBufferPointer) {
    beforeValue()
    buffer.append(prepared)
    afterKey = true
  }

  /// The bytes ``encodedKey(_:)`` takes for `name`.
  static func encodeKey(_ name: String) -> [UInt8] {
    let writer = SerialJSONWriter(capacity: 64)
    var name = name
    _ = name.withUTF8 { writer.string(UnsafeRawBufferPointer($0)) }
    writer.buffer.appendByte(UInt8(ascii: ":"))
    return Array(writer.bytes)
  }

  func null() {
    beforeValue()
    append("null")
  }

  func bool(_ value: Bool) {
    beforeValue()
    append(value ? "true" : "false")
  }

  @inline(__always)
  private func append(_ text: StaticString) {
    buffer.append(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
  }

  /// A string value known at compile time.
  func string(_ text: StaticString) {
    beforeValue()
    buffer.appendByte(UInt8(ascii: "\""))
    append(text)
    buffer.appendByte(UInt8(ascii: "\""))
  }

  /// A quoted, escaped string; false (and the buffer left part-written) when `text` is not UTF-8.
  @discardableResult
  func string(_ text: UnsafeRawBufferPointer) -> Bool {
    beforeValue()
    buffer.appendByte(UInt8(ascii: "\""))
    guard appendEscaped(text) else { return false }
    buffer.appendByte(UInt8(ascii: "\""))
    return true
  }

  /// Escapes `text` into the buffer without quotes; false when it is not UTF-8.
  func appendEscaped(_ text: UnsafeRawBufferPointer) -> Bool {
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
  func int(_ value: Int64) {
    beforeValue()
    appendInteger(value.magnitude, negative: value < 0)
  }

  func uint(_ value: UInt64) {
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
  func fixed(_ value: Double, decimals: Int) {
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
  func double(_ value: Double) {
    guard value.isFinite else { return null() }
    if value == value.rounded(), value.magnitude < 1e15 { return int(Int64(value)) }
    beforeValue()
    var text = value.description
    text.withUTF8 { buffer.append(UnsafeRawBufferPointer($0)) }
  }

  /// A 32-bit float with the digits a 32-bit float carries (`3.2`, not `3.200000047683716`).
  func float(_ value: Float) {
    guard value.isFinite else { return null() }
    if value == value.rounded(), value.magnitude < 1e7 { return int(Int64(value)) }
    beforeValue()
    var text = value.description
    text.withUTF8 { buffer.append(UnsafeRawBufferPointer($0)) }
  }

  /// Writes decimal text from a device (`+08`, `.5`, `-3.`, `1.5E3`) as a valid JSON number
  /// (`8`, `0.5`, `-3`, `1.5E3`) without going through a binary float, so no digit is lost.
  /// Returns false, writing nothing, when `text` is not a decimal number or lies beyond a double's
  /// range (a reader would take `1e999` for infinity).
  func decimalText(_ text: UnsafeRawBufferPointer) -> Bool {
    guard let number = SerialDecimal(text), number.isFinite(text) else { return false }
    beforeValue()
    if number.negative { buffer.appendByte(UInt8(ascii: "-")) }
    var intStart = number.integer.lowerBound
    while intStart < number.integer.upperBound - 1 && text[intStart] == UInt8(ascii: "0") { intStart += 1 }
    if intStart == number.integer.upperBound {
      buffer.appendByte(UInt8(ascii: "0"))
    } else {
      buffer.append(UnsafeRawBufferPointer(rebasing: text[intStart..<number.integer.upperBound]))
    }
    if !number.fraction.isEmpty {
      buffer.appendByte(UInt8(ascii: "."))
      buffer.append(UnsafeRawBufferPointer(rebasing: text[number.fraction]))
    }
    if !number.exponent.isEmpty {
      buffer.appendByte(UInt8(ascii: "e"))
      if number.exponentNegative { buffer.appendByte(UInt8(ascii: "-")) }
      buffer.append(UnsafeRawBufferPointer(rebasing: text[number.exponent]))
    }
    return true
  }

  /// Bytes already encoded as JSON.
  func raw(_ json: UnsafeRawBufferPointer) {
    beforeValue()
    buffer.append(json)
  }
}

extension SerialJSONWriter {
  /// Opens a string value whose content the caller appends to ``buffer`` (already-safe ASCII only).
  func beginString() {
    raw(UnsafeRawBufferPointer(start: StaticString("\"").utf8Start, count: 1))
  }

  func endString() {
    buffer.appendByte(UInt8(ascii: "\""))
  }

  /// Appends string content the caller knows needs no escaping (digits, punctuation).
  func content(_ bytes: UnsafeRawBufferPointer) {
    buffer.append(bytes)
  }

  func content(_ byte: UInt8) {
    buffer.appendByte(byte)
  }

  func content(_ text: StaticString) {
    buffer.append(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
  }
}
