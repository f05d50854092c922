import Payload

/// Decodes NMEA 0183 sentences into JSON objects: verifies the checksum (XOR of the bytes between
/// `$` and `*`), splits the fields, and names the fields of GGA, RMC, VTG and XDR; any other
/// sentence becomes `{"talker","type","fields":[...]}`. Field ranges are kept in one reused array.
/// Not thread-safe.
final class NMEADecoder {
  let requireChecksum: Bool
  /// Sentence types to record (`GGA`), or nil for all.
  private let filter: [[UInt8]]?
  var fields: [Range<Int>] = []
  /// Set while a sentence is decoded.
  var sentence = UnsafeRawBufferPointer(start: nil, count: 0)

  /// A field that does not hold what its position requires.
  struct FieldError: Error {
    var index: Int
    var name: StaticString
    var problem: StaticString
  }

  /// Fields a sentence may have, its address included. The standard's 82 characters allow about
  /// 40; the bound keeps XDR's group names to two digits and a line of commas cheap.
  static let maxFields = 256

  init(requireChecksum: Bool, sentences: [String]?) {
    self.requireChecksum = requireChecksum
    filter = sentences.map { $0.map { Array($0.utf8) } }
    fields.reserveCapacity(64)
  }

  /// Where the sentence starts in a line: the last `$` or `!` (bytes before it are noise, such as
  /// the tail of a sentence cut short when the device was plugged in). Nil when there is none.
  static func sentenceStart(_ line: UnsafeRawBufferPointer) -> Int? {
    var i = line.count - 1
    while i >= 0 {
      if line[i] == UInt8(ascii: "$") || line[i] == UInt8(ascii: "!") { return i }
      i -= 1
    }
    return nil
  }

  /// Decodes `sentence`, which starts with `$` or `!`, into `out`.
  func decode(_ s: UnsafeRawBufferPointer, into out: JSONWriter) -> LineOutcome {
    sentence = s
    var bodyEnd = s.count
    while bodyEnd > 1 && (s[bodyEnd - 1] == 0x20 || s[bodyEnd - 1] == 0x09) { bodyEnd -= 1 }
    var checksum: UInt8 = 0
    var star = -1
    var i = 1
    while i < bodyEnd {
      let b = s[i]
      if b == UInt8(ascii: "*") {
        star = i
        break
      }
      if b < 0x20 || b > 0x7E { return .reject(.unparsable, "non-printable byte 0x\(hex(b)) at \(i) in NMEA sentence") }
      checksum ^= b
      i += 1
    }
    if star >= 0 {
      guard bodyEnd - star == 3, let hi = JSONString.hexValue(s[star + 1]),
        let lo = JSONString.hexValue(s[star + 2])
      else {
        return .reject(.badChecksum, "malformed checksum field '\(String(decoding: s[star...], as: UTF8.self))'")
      }
      let sent = hi << 4 | lo
      if sent != checksum { return .reject(.badChecksum, "checksum \(hex(sent)), computed \(hex(checksum))") }
      bodyEnd = star
    } else if requireChecksum {
      return .reject(.badChecksum, "no checksum (*hh) at the end of the sentence")
    }
    fields.removeAll(keepingCapacity: true)
    var fieldStart = 1
    for j in 1..<bodyEnd where s[j] == UInt8(ascii: ",") {
      guard fields.count < Self.maxFields else {
        return .reject(.unparsable, "NMEA sentence with more than \(Self.maxFields) fields")
      }
      fields.append(fieldStart..<j)
      fieldStart = j + 1
    }
    fields.append(fieldStart..<bodyEnd)
    let address = fields[0]
    guard address.count >= 2, (address).allSatisfy({ isAddressByte(s[$0]) }) else {
      return .reject(.unparsable, "invalid NMEA address '\(text(0))'")
    }
    let type: Range<Int>
    if s[address.lowerBound] == UInt8(ascii: "P") {
      type = address.lowerBound + 1..<address.upperBound
    } else {
      guard address.count >= 3 else { return .reject(.unparsable, "invalid NMEA address '\(text(0))'") }
      type = address.lowerBound + 2..<address.upperBound
    }
    let typeBytes = UnsafeRawBufferPointer(rebasing: s[type])
    if let filter, !filter.contains(where: { $0.elementsEqual(typeBytes) }) { return .skip }
    out.reset()
    out.beginObject()
    out.key("talker")
    out.string(UnsafeRawBufferPointer(rebasing: s[address.lowerBound..<type.lowerBound]))
    out.key("type")
    out.string(typeBytes)
    do {
      switch typeBytes.count == 3 ? (typeBytes[0], typeBytes[1], typeBytes[2]) : (0, 0, 0) {
      case (UInt8(ascii: "G"), UInt8(ascii: "G"), UInt8(ascii: "A")): try gga(out)
      case (UInt8(ascii: "R"), UInt8(ascii: "M"), UInt8(ascii: "C")): try rmc(out)
      case (UInt8(ascii: "V"), UInt8(ascii: "T"), UInt8(ascii: "G")): try vtg(out)
      case (UInt8(ascii: "X"), UInt8(ascii: "D"), UInt8(ascii: "R")): try xdr(out)
      default: generic(out)
      }
    } catch {
      let type = String(decoding: typeBytes, as: UTF8.self)
      return .reject(
        .unparsable, "\(type) field \(error.index) (\(error.name)): '\(text(error.index))' \(error.problem)")
    }
    out.endObject()
    return .record
  }

  private func isAddressByte(_ b: UInt8) -> Bool {
    (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z")) || DecimalText.isDigit(b)
  }

  private func hex(_ b: UInt8) -> String {
    let digits = Array("0123456789ABCDEF")
    return String([digits[Int(b >> 4)], digits[Int(b & 0xF)]])
  }

  /// Field `i` as text, for error messages.
  func text(_ i: Int) -> String { String(decoding: field(i), as: UTF8.self) }

  /// Field `i`, empty when the sentence is shorter.
  @inline(__always)
  func field(_ i: Int) -> UnsafeRawBufferPointer {
    guard i < fields.count else { return UnsafeRawBufferPointer(start: nil, count: 0) }
    return UnsafeRawBufferPointer(rebasing: sentence[fields[i]])
  }

  /// Every field after the address as strings.
  private func generic(_ out: JSONWriter) {
    out.key("fields")
    out.beginArray()
    for i in 1..<fields.count { out.string(field(i)) }
    out.endArray()
  }
}
