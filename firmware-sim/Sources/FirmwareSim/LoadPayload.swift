/// A load-mode payload of exactly `size` bytes, formatted once; only the sequence number is
/// rewritten per message, right-aligned in a fixed-width field (spaces are valid JSON whitespace):
/// `{"pub":0,"seq":          42,"pad":"xxxx…"}`. Payloads too small for that are the bare field
/// padded with `x`.
struct LoadPayload {
  private(set) var bytes: [UInt8]
  private let sequenceOffset: Int
  static let sequenceWidth = 12

  init(publisher: Int, size: Int) {
    let head = Array("{\"pub\":\(publisher),\"seq\":".utf8)
    let middle = Array(",\"pad\":\"".utf8)
    let tail = Array("\"}".utf8)
    let fixed = head.count + Self.sequenceWidth + middle.count + tail.count
    if size >= fixed {
      bytes = head + [UInt8](repeating: UInt8(ascii: " "), count: Self.sequenceWidth) + middle
        + [UInt8](repeating: UInt8(ascii: "x"), count: size - fixed) + tail
      sequenceOffset = head.count
    } else {
      bytes = [UInt8](repeating: UInt8(ascii: "x"), count: size)
      sequenceOffset = 0
    }
  }

  /// Write `sequence` into the fixed field in place (no allocation).
  mutating func setSequence(_ sequence: Int) {
    let width = min(Self.sequenceWidth, bytes.count - sequenceOffset)
    guard width > 0 else { return }
    let offset = sequenceOffset
    bytes.withUnsafeMutableBufferPointer { buffer in
      var rest = sequence
      var index = offset + width - 1
      repeat {
        buffer[index] = UInt8(ascii: "0") + UInt8(rest % 10)
        rest /= 10
        index -= 1
      } while rest > 0 && index >= offset
      while index >= offset {
        buffer[index] = UInt8(ascii: " ")
        index -= 1
      }
    }
  }
}
