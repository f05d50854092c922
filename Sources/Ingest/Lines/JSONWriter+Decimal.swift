import Payload
import WeirCore

extension JSONWriter {
  /// Writes decimal text from a device (`+08`, `.5`, `-3.`, `1.5E3`) as a valid JSON number
  /// (`8`, `0.5`, `-3`, `1.5E3`) without going through a binary float, so no digit is lost.
  /// Returns false, writing nothing, when `text` is not a decimal number or lies beyond a double's
  /// range (a reader would take `1e999` for infinity).
  func decimalText(_ text: UnsafeRawBufferPointer) -> Bool {
    guard let number = DecimalText(text), number.isFinite(text) else { return false }
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
}
