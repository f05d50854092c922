import Testing
@testable import FirmwareSim

struct NMEATests {
  /// Checksums computed independently of the code under test.
  static func xor(_ body: Substring) -> UInt8 {
    var sum: UInt8 = 0
    for byte in body.utf8 { sum ^= byte }
    return sum
  }

  @Test(arguments: [
    ("GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,", "47"),
    ("GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W", "6A"),
  ])
  func knownSentences(body: String, checksum: String) {
    #expect(NMEA.sentence(body) == "$\(body)*\(checksum)\r\n")
    #expect(NMEA.isValid("$\(body)*\(checksum)"))
    #expect(!NMEA.isValid("$\(body)*00"))
    #expect(NMEA.sentence(body, corrupt: true) != NMEA.sentence(body))
  }

  @Test func encoderWritesFourValidSentencesPerReading() {
    var encoder = NMEAEncoder(seed: 3)
    let sentences = encoder.sentences(
      kind: .motor, values: SIMD4(2.13, 41.2, 11.84, 1474), epochMillis: 1_767_600_000_000 + 3_723_450
    ) { _ in false }
    #expect(sentences.map { String($0.dropFirst(3).prefix(3)) } == ["GGA", "RMC", "VTG", "XDR"])
    for sentence in sentences {
      #expect(sentence.hasSuffix("\r\n"))
      #expect(sentence.utf8.count <= 82, "NMEA 0183 limits sentences to 82 characters")
      // "\r\n" is a single Character in Swift: strip it as bytes.
      let line = String(decoding: sentence.utf8.dropLast(2), as: UTF8.self)
      let star = line.lastIndex(of: "*")!
      #expect(UInt8(line[line.index(after: star)...], radix: 16) == Self.xor(line[line.index(after: line.startIndex)..<star]))
    }
    // 2026-01-05 09:02:03.45 UTC
    #expect(sentences[0].hasPrefix("$GPGGA,090203.45,"))
    #expect(sentences[1].contains(",050126,"))
    #expect(sentences[3].hasPrefix("$IIXDR,G,2.13,,VIBRATION,C,41.2,C,TEMPERATURE,I,11.84,A,CURRENT,T,1474,R,RPM*"))
  }

  @Test(arguments: [
    (52.5, 2, "N", "S", "5230.0000,N"), (-33.8688, 2, "N", "S", "3352.1280,S"),
    (13.4, 3, "E", "W", "01324.0000,E"), (-0.5, 3, "E", "W", "00030.0000,W"),
  ])
  func coordinates(degrees: Double, digits: Int, positive: String, negative: String, expected: String) {
    #expect(NMEAEncoder.coordinate(degrees, degreesDigits: digits, positive: positive, negative: negative) == expected)
  }
}
