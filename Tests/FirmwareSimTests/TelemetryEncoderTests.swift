import Testing
@testable import FirmwareSim

struct TelemetryEncoderTests {
  @Test(arguments: [
    (2.125, 2, "2.13"), (-1.25, 1, "-1.3"), (-0.04, 1, "0.0"), (1474.0, 0, "1474"), (0.05, 2, "0.05"),
    (11.2, 2, "11.20"), (-12.345, 3, "-12.345"), (0, 1, "0.0"), (1e20, 1, "null"), (Double.nan, 1, "null"),
  ])
  func fixedDecimals(value: Double, decimals: Int, expected: String) {
    var bytes: [UInt8] = []
    JSONBytes.appendFixed(value, decimals: decimals, to: &bytes)
    #expect(String(decoding: bytes, as: UTF8.self) == expected)
  }

  @Test func payloadShape() {
    var buffer: [UInt8] = []
    TelemetryEncoder.encode(
      device: "motor-0007", kind: .motor, timestamp: 1_767_600_000_123,
      values: SIMD4(2.13, 41.2, 11.84, 1474), into: &buffer)
    #expect(String(decoding: buffer, as: UTF8.self)
      == #"{"device":"motor-0007","kind":"motor","ts":1767600000123,"vibration":2.13,"temperature":41.2,"current":11.84,"rpm":1474}"#)
    TelemetryEncoder.encode(
      device: "pump-0001", kind: .pump, timestamp: 5, values: SIMD4(3.5, 42.0, 55.55, 0), fault: .wrongType(.timestamp),
      into: &buffer)
    #expect(String(decoding: buffer, as: UTF8.self)
      == #"{"device":"pump-0001","kind":"pump","ts":"5","pressure":3.50,"flow":42.0,"temperature":55.6}"#)
    TelemetryEncoder.encode(
      device: "env-0002", kind: .env, timestamp: 5, values: SIMD4(-3.5, 80, 0, 0), fault: .missing(.device),
      into: &buffer)
    #expect(String(decoding: buffer, as: UTF8.self) == #"{"kind":"env","ts":5,"temperature":-3.5,"humidity":80.0}"#)
    TelemetryEncoder.encode(
      device: "env-0002", kind: .env, timestamp: 5, values: SIMD4(1, 2, 0, 0), fault: .wrongType(.device),
      into: &buffer)
    #expect(String(decoding: buffer, as: UTF8.self) == #"{"device":2,"kind":"env","ts":5,"temperature":1.0,"humidity":2.0}"#)
  }

  @Test(arguments: 0..<3)
  func everyMalformationIsRejectedByAJSONParser(variant: Int) {
    for cut in stride(from: 0.0, to: 1.0, by: 0.01) {
      var buffer: [UInt8] = []
      TelemetryEncoder.encode(
        device: "motor-0001", kind: .motor, timestamp: 1, values: SIMD4(1, 2, 3, 4),
        fault: .malformed(variant: variant), malformCut: cut, into: &buffer)
      #expect(TestSupport.jsonObject(buffer) == nil, "variant \(variant) cut \(cut): \(String(decoding: buffer, as: UTF8.self))")
    }
  }

  @Test func loadPayloadKeepsItsSizeAndStaysJSON() {
    for size in [0, 5, 12, 40, 100, 1000] {
      var payload = LoadPayload(publisher: 3, size: size)
      for sequence in [0, 7, 123_456, 999_999_999_999] {
        payload.setSequence(sequence)
        #expect(payload.bytes.count == size)
        if size >= 100 {
          let object = TestSupport.jsonObject(payload.bytes)
          #expect(object?["seq"] as? Int == sequence)
          #expect(object?["pub"] as? Int == 3)
        }
      }
    }
  }
}
