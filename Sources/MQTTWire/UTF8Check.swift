import Payload

/// The strings MQTT allows: well-formed UTF-8 (the one check the JSON reader uses too) without
/// the null character, which both specifications make a malformed packet.
public enum UTF8Check {
  public static func validate(_ s: UnsafeRawBufferPointer) throws(WireError) {
    var i = 0
    let n = s.count
    while i < n {
      let b = s[i]
      if b < 0x80 {
        if b == 0 { throw .malformed("a string contains U+0000") }
        i += 1
        continue
      }
      let length = JSONString.utf8SequenceLength(s, at: i)
      if length == 0 { throw .malformed("a string is not well-formed UTF-8") }
      i += length
    }
  }
}
