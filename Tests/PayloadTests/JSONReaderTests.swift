import Payload
import Testing

@Suite struct JSONReaderTests {
  static let valid: [String] = [
    "{}", "[]", "0", "-1.5e+3", "\"x\"", "true", "null", " {\"a\": [1, 2, {\"b\": null}], \"c\": \"\\u00e9\\n\"} ",
    "{\"device\":\"motor-1\",\"ts\":1700000000000,\"v\":4.2}", "\"caf\u{e9}\"", "\"é✓😀\"",
  ]
  static let invalid: [String] = [
    "", "{", "{\"a\":}", "{\"a\" 1}", "[1,]", "01", "1.", "-", "tru", "{\"a\":1}}", "\"\\x\"", "\"unterminated",
    "{'a':1}", "[1 2]", "{\"a\":1,}", String(repeating: "[", count: 100) + String(repeating: "]", count: 100),
  ]

  static func validate(_ bytes: [UInt8]) -> JSONProblem? { bytes.withUnsafeBytes { JSONFields.validate($0) } }

  @Test(arguments: valid)
  func validJSON(_ text: String) {
    #expect(Self.validate(Array(text.utf8)) == nil, "\(text)")
  }

  @Test(arguments: invalid)
  func invalidJSON(_ text: String) {
    #expect(Self.validate(Array(text.utf8)) != nil, "\(text)")
  }

  /// RFC 3629: a truncated sequence, an overlong form, a surrogate and a code point past U+10FFFF are all refused.
  @Test(arguments: [
    [0xC3, 0x28], [0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xFF],
  ])
  func invalidUTF8IsRejected(_ sequence: [UInt8]) {
    #expect(
      Self.validate([UInt8(ascii: "\"")] + sequence + [UInt8(ascii: "\"")])?.message.description == "invalid UTF-8")
  }

  /// Validation and the paths in one pass: object members at any depth, array elements, first duplicate wins.
  @Test func validateFindsPaths() {
    let text = #"{"a": 1, "meta": {"id": "dev\"7", "n": [1,2]}, "device": "motor-3", "ts": 1700000000123, "a": 2}"#
    let fields = JSONFields(paths: [
      [.key("device")], [.key("ts")], [.key("meta"), .key("id")], [.key("meta"), .key("n")], [.key("missing")],
      [.key("a"), .key("b")], [.key("meta"), .key("n"), .index(1)], [.key("a")],
    ])
    Array(text.utf8).withUnsafeBytes { raw in
      #expect(fields.validate(raw) == nil)
      func value(_ slot: Int) -> String? { fields[slot].map { String(decoding: raw[$0.range], as: UTF8.self) } }
      #expect(value(0) == "motor-3")
      #expect(fields[0]?.kind == .string)
      #expect(value(1) == "1700000000123")
      #expect(fields[1]?.kind == .number)
      #expect(value(2) == #"dev\"7"#)
      #expect(fields[2]?.escaped == true)
      #expect(value(3) == "[1,2]")
      #expect(fields[3]?.kind == .array)
      #expect(value(4) == nil)
      #expect(value(5) == nil)
      #expect(value(6) == "2")
      #expect(value(7) == "1")
    }
  }

  static func object(_ text: String, _ keys: [String] = []) -> String {
    let fields = JSONFields(keys: keys)
    return Array(text.utf8).withUnsafeBytes { bytes in
      if let problem = fields.validate(bytes, requireObject: true) { return "error: \(problem)" }
      return (0..<keys.count).map { slot in
        guard let v = fields[slot] else { return "-" }
        return "\(v.kind):" + String(decoding: bytes[v.range], as: UTF8.self)
      }.joined(separator: " ")
    }
  }

  @Test func objectsWithTopLevelFields() {
    #expect(Self.object(#" {"a": 1, "b":"x\"y", "c":{"a":2}} "#, ["a", "b"]) == #"number:1 string:x\"y"#)
    #expect(
      Self.object(#"{"c":{"a":2},"a":[1,{"z":null}],"b":true}"#, ["a", "b"]) == "array:[1,{\"z\":null}] bool:true")
    #expect(Self.object(#"{"\u0061":-1.5e+3}"#, ["a"]) == "number:-1.5e+3")
    #expect(Self.object(#"{}"#, ["a"]) == "-")
    #expect(Self.object("{\"a\":\"é✓\"}", ["a"]) == "string:é✓")
  }

  /// Every problem has its own message and the byte where the scan stopped.
  @Test(arguments: [
    ("", "not a JSON object (expected '{') at byte 0"),
    ("[1]", "not a JSON object (expected '{') at byte 0"),
    ("{\"a\":01}", "expected ',' or '}' at byte 6"),
    ("{\"a\":1,}", "expected a field name at byte 7"),
    ("{\"a\":.5}", "unexpected character at byte 5"),
    ("{\"a\":1.}", "digit expected after '.' at byte 7"),
    ("{\"a\":1e}", "digit expected in exponent at byte 7"),
    ("{\"a\":tru}", "invalid literal at byte 5"),
    ("{\"a\":\"\\x\"}", "invalid escape at byte 6"),
    ("{\"a\":\"\\u12G4\"}", "invalid \\u escape at byte 6"),
    ("{\"a\":\"\u{1}\"}", "control character in string at byte 6"),
    ("{\"a\":1} x", "unexpected text after the object at byte 8"),
    ("{\"a\":[1,2}", "expected ',' or ']' at byte 9"),
    ("{\"a\":\"x", "unterminated string at byte 7"),
    ("{\"a\" 1}", "expected ':' at byte 5"),
    ("{\"a\":1", "unterminated object at byte 6"),
    ("{\"a\":", "expected a value at byte 5"),
    (
      "{\"a\":" + String(repeating: "[", count: 70) + String(repeating: "]", count: 70) + "}",
      "nested deeper than 64 levels at byte 68"
    ),
  ])
  func problems(_ text: String, _ message: String) {
    #expect(Self.object(text) == "error: " + message, "\(text)")
  }

  /// `find` reads only as far as it must: a document damaged after the last path still yields its fields.
  @Test(arguments: [
    (#"{"a":"#, false), (#"{"a" 1}"#, false), (#"{"a":1"#, true), (#"{"b":1"#, false), ("", false), ("nul", false),
    (#"{"a":1,"b":2}garbage"#, true), (#"{"b":[1,2,}"#, false), (#"{"a":1, "b":"#, true), (#"{"a":007}"#, true),
  ])
  func findStopsAtTheLastPath(_ payload: String, _ ok: Bool) {
    let fields = JSONFields(keys: ["a"])
    #expect(Array(payload.utf8).withUnsafeBytes { fields.find($0) } == ok, "\(payload)")
  }

  @Test(arguments: [
    ("0", 0.0), ("-0.5e-3", -0.0005), ("1E+2", 100), ("123456789012345678901234", 1.2345678901234568e23),
    ("0.1", 0.1), ("3.141592653589793", 3.141592653589793), ("1700000000.5", 1_700_000_000.5),
  ])
  func numbers(_ text: String, _ expected: Double) {
    #expect(Array(text.utf8).withUnsafeBytes { JSONNumber.parse($0) } == expected)
  }

  @Test(arguments: ["", "+1", ".5", "01", "1e", "1.", "0x10", "1 ", "nan", "-"])
  func notNumbers(_ text: String) {
    #expect(Array(text.utf8).withUnsafeBytes { JSONNumber.parse($0) } == nil)
  }

  @Test func longNumbersStayBounded() {
    let digits = "1" + String(repeating: "0", count: 5000) + "e-5000"
    #expect(Array(digits.utf8).withUnsafeBytes { JSONNumber.parse($0) } == 1)
  }

  @Test(arguments: [
    (#"tab\there \"q\" \u00e9 \ud83d\ude00"#, "tab\there \"q\" é 😀"), (#"\ud800x"#, "\u{FFFD}x"), (#"\u12"#, #"\u12"#),
    ("plain", "plain"),
  ])
  func unescape(_ raw: String, _ text: String) {
    #expect(Array(raw.utf8).withUnsafeBytes { JSONString.text($0, escaped: true) } == text)
  }
}
