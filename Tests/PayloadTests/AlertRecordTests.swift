import Payload
import Testing

@Suite struct AlertRecordTests {
  static let alert = AlertRecord(
    rule: "bearing_wear", severity: "warning", key: "motor-\"1\"", state: .raised, windowStart: 1_700_000_000_000,
    windowEnd: 1_700_000_060_000,
    values: [
      .init(name: "rms", value: .number(7.25)), .init(name: "n", value: .number(60)),
      .init(name: "label", value: .string("é\n")), .init(name: "ok", value: .bool(false)),
      .init(name: "none", value: .null),
    ], message: "rms 7.25")

  /// The schema, byte for byte: replays and the MQTT payload depend on it.
  @Test func encodesInTheDocumentedOrder() {
    #expect(
      Self.alert.jsonString
        == #"{"rule":"bearing_wear","severity":"warning","key":"motor-\"1\"","state":"raised","#
        + #""window_start":"2023-11-14T22:13:20.000Z","window_end":"2023-11-14T22:14:20.000Z","#
        + #""window_start_ms":1700000000000,"window_end_ms":1700000060000,"#
        + #""values":{"rms":7.25,"n":60,"label":"é\n","ok":false,"none":null},"message":"rms 7.25"}"#)
  }

  @Test func readsBackWhatItWrites() throws {
    let back = try #require(Self.alert.json.withUnsafeBytes { AlertRecord(json: $0) })
    #expect(back == Self.alert)
    #expect(back.key == "motor-\"1\"")
    #expect(back.state == .raised)
    #expect(back.windowEnd == 1_700_000_060_000)
    #expect(back.values == Self.alert.values)
    #expect(back["label"] == .string("é\n"))
  }

  @Test(arguments: [
    "", "[]", #"{"rule":"r"}"#,
    #"{"rule":1,"severity":"s","key":"k","state":"raised","window_start_ms":0,"window_end_ms":1}"#,
    #"{"rule":"r","severity":"s","key":"k","state":"open","window_start_ms":0,"window_end_ms":1}"#,
    #"{"rule":"r","severity":"s","key":"k","state":"raised","window_start_ms":0.5,"window_end_ms":1}"#,
  ])
  func refusesWhatIsNotAnAlert(_ text: String) {
    #expect(Array(text.utf8).withUnsafeBytes { AlertRecord(json: $0) } == nil)
  }

  @Test func toleratesUnknownMembers() {
    let text = #"{"rule":"r","severity":"s","key":"k","state":"cleared","window_start_ms":0,"window_end_ms":1,"x":[1]}"#
    let alert = Array(text.utf8).withUnsafeBytes { AlertRecord(json: $0) }
    #expect(alert?.state == .cleared)
    #expect(alert?.values.isEmpty == true)
    #expect(alert?.message == "")
  }
}
