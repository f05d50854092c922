import Payload
import Testing

@Suite struct JSONWriterTests {
  static func text(_ w: JSONWriter) -> String { String(decoding: w.bytes, as: UTF8.self) }

  @Test func nestedValuesAndEscapes() {
    let w = JSONWriter()
    w.beginObject()
    w.key("a")
    w.beginArray()
    w.int(-3)
    w.uint(18_446_744_073_709_551_615)
    w.null()
    w.bool(true)
    w.endArray()
    w.key(text: "q\"\\\n\u{1}é")
    w.text("tab\t/")
    w.key("f")
    w.fixed(48.117300, decimals: 4)
    w.key("d")
    w.double(1500)
    w.key("e")
    w.double(0.1)
    w.endObject()
    #expect(
      Self.text(w)
        == #"{"a":[-3,18446744073709551615,null,true],"q\"\\\n\u0001é":"tab\t/","f":48.1173,"d":1500,"e":0.1}"#)
    #expect(JSONFields.validate(w.bytes) == nil)
  }

  @Test func invalidUTF8IsNotWrittenAsAString() {
    let w = JSONWriter()
    #expect([UInt8]([0xC3, 0x28]).withUnsafeBytes { w.string($0) } == false)
  }

  @Test func membersForPeople() {
    let w = JSONWriter.object()
    w.add("s", "x")
    w.add("n", 42)
    w.add("ratio", 0.901234)
    w.add("big", 123_456.7)
    w.add("small", 0.000123456)
    w.add("inf", Double.infinity)
    w.add("ok", true)
    w.addNull("none")
    w.add("raw", raw: "[1,2]")
    [UInt8]([0x61, 0x62]).withUnsafeBytes { w.add("utf8", bytes: $0) }
    [UInt8]([0xFF, 0x00, 0x61]).withUnsafeBytes { w.add("binary", bytes: $0) }
    w.add("absent", bytes: nil)
    #expect(
      w.result
        == #"{"s":"x","n":42,"ratio":0.9012,"big":123457,"small":0.0001235,"inf":null,"ok":true,"none":null,"#
        + #""raw":[1,2],"utf8":"ab","binary":{"base64":"/wBh"},"absent":null}"#)
    #expect(Array(w.result.utf8).withUnsafeBytes { JSONFields.validate($0) } == nil)
  }
}
