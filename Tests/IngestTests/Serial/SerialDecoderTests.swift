import Foundation
import Payload
import Testing

@testable import Ingest

/// Decoders on single lines, table-driven: what goes in, the JSON or the rejection that comes out.
@Suite struct SerialDecoderTests {
  enum Expected: Equatable, CustomStringConvertible {
    case json(String)
    case reject(DeadLetterReason, String)
    case skip

    var description: String {
      switch self {
      case .json(let j): return j
      case .reject(let r, let d): return "\(r.rawValue): \(d)"
      case .skip: return "skip"
      }
    }
  }

  static func run(_ outcome: LineOutcome, _ writer: JSONWriter) -> Expected {
    switch outcome {
    case .record: return .json(String(decoding: writer.bytes, as: UTF8.self))
    case .reject(let r, let d): return .reject(r, d)
    case .skip: return .skip
    }
  }

  static func nmeaDecode(_ sentence: String, requireChecksum: Bool = true, filter: [String]? = nil) -> Expected {
    let decoder = NMEADecoder(requireChecksum: requireChecksum, sentences: filter)
    let writer = JSONWriter()
    return Array(sentence.utf8).withUnsafeBytes { run(decoder.decode($0, into: writer), writer) }
  }

  static let nmeaCases: [(String, Expected)] = [
    (
      String(nmea("GPGGA,092750.000,5321.6802,N,00630.3372,W,1,8,1.03,61.7,M,55.2,M,,").dropLast()),
      .json(
        #"{"talker":"GP","type":"GGA","time":"09:27:50.000","lat":53.3613367,"lon":-6.50562,"fix_quality":1,"satellites":8,"hdop":1.03,"altitude_m":61.7,"geoid_separation_m":55.2,"dgps_age_s":null,"dgps_station":null}"#
      )
    ),
    (
      String(nmea("GNGGA,,,,,,0,00,99.99,,,,,,").dropLast()),
      .json(
        #"{"talker":"GN","type":"GGA","time":null,"lat":null,"lon":null,"fix_quality":0,"satellites":0,"hdop":99.99,"altitude_m":null,"geoid_separation_m":null,"dgps_age_s":null,"dgps_station":null}"#
      )
    ),
    (
      String(nmea("GPRMC,225446,A,4916.45,N,12311.12,W,000.5,054.7,191194,020.3,E").dropLast()),
      .json(
        #"{"talker":"GP","type":"RMC","time":"22:54:46","valid":true,"lat":49.2741667,"lon":-123.1853333,"speed_knots":0.5,"course_deg":54.7,"date":"1994-11-19","magnetic_variation_deg":20.3,"mode":null,"epoch_ms":785285686000}"#
      )
    ),
    (
      String(nmea("GNRMC,001031.00,V,,,,,,,060180,,,N").dropLast()),
      .json(
        #"{"talker":"GN","type":"RMC","time":"00:10:31.00","valid":false,"lat":null,"lon":null,"speed_knots":null,"course_deg":null,"date":"1980-01-06","magnetic_variation_deg":null,"mode":"N","epoch_ms":315965431000}"#
      )
    ),
    (
      String(nmea("GPVTG,054.7,034.4,005.5,010.2").dropLast()),
      .json(
        #"{"talker":"GP","type":"VTG","course_true_deg":54.7,"course_magnetic_deg":34.4,"speed_knots":5.5,"speed_kmh":10.2,"mode":null}"#
      )
    ),
    (
      String(nmea("WIXDR,C,-3.5,C,,H,45,P,HUM").dropLast()),
      .json(
        #"{"talker":"WI","type":"XDR","transducers":{"0":{"type":"C","value":-3.5,"unit":"C"},"HUM":{"type":"H","value":45,"unit":"P"}}}"#
      )
    ),
    (
      String(nmea("PGRME,15.0,M,45.0,M,25.0,M").dropLast()),
      .json(#"{"talker":"P","type":"GRME","fields":["15.0","M","45.0","M","25.0","M"]}"#)
    ),
    (
      "!AIVDM,1,1,,B,177KQJ5000G?tO`K>RA1wUbN0TKH,0*5C",
      .json(#"{"talker":"AI","type":"VDM","fields":["1","1","","B","177KQJ5000G?tO`K>RA1wUbN0TKH","0"]}"#)
    ),
    ("$GPGGA,1,2*7a", .reject(.badChecksum, "checksum 7A, computed 55")),
    ("$GPGGA,1,2*55", .reject(.unparsable, "GGA field 3 (altitude): '' is missing (too few fields)")),
    ("$GPGGA,1,2", .reject(.badChecksum, "no checksum (*hh) at the end of the sentence")),
    ("$GPGGA,1,2*4", .reject(.badChecksum, "malformed checksum field '*4'")),
    ("$GPGGA,1,2*4CX", .reject(.badChecksum, "malformed checksum field '*4CX'")),
    ("$gpgga,1*6b", .reject(.unparsable, "invalid NMEA address 'gpgga'")),
    ("$GP\u{7}GA,1*00", .reject(.unparsable, "non-printable byte 0x07 at 3 in NMEA sentence")),
    (
      String(nmea("GPRMC,225446,X,4916.45,N,12311.12,W,000.5,054.7,191194,020.3,E").dropLast()),
      .reject(.unparsable, "RMC field 2 (status): 'X' is not A or V")
    ),
    (
      String(nmea("GPRMC,225446,A,4916.45,Q,12311.12,W,000.5,054.7,191194,020.3,E").dropLast()),
      .reject(.unparsable, "RMC field 4 (N/S): 'Q' is not a hemisphere letter")
    ),
    (
      String(nmea("GPRMC,225446,A,4976.45,N,12311.12,W,000.5,054.7,191194,020.3,E").dropLast()),
      .reject(.unparsable, "RMC field 3 (latitude): '4976.45' is out of range")
    ),
    (
      String(nmea("GPRMC,225446,A,4916.45,N,12311.12,W,000.5,054.7,311194,020.3,E").dropLast()),
      .reject(.unparsable, "RMC field 9 (date): '311194' is not ddmmyy")
    ),
    (
      String(nmea("GPGGA,256000,,,,,1,08,0.9,1,M,,M,,").dropLast()),
      .reject(.unparsable, "GGA field 1 (time): '256000' is not hhmmss[.sss]")
    ),
    (
      String(nmea("IIXDR,C,1,C").dropLast()),
      .reject(.unparsable, "XDR field 4 (measurement): '' is missing (too few fields)")
    ),
  ]

  @Test(arguments: 0..<nmeaCases.count)
  func nmeaSentences(_ i: Int) {
    let (input, expected) = Self.nmeaCases[i]
    #expect(Self.nmeaDecode(input) == expected, "\(input)")
  }

  @Test func nmeaOptionsAndSentenceStart() {
    #expect(
      Self.nmeaDecode("$GPVTG,1,2,3,4", requireChecksum: false)
        != .reject(.badChecksum, "no checksum (*hh) at the end of the sentence"))
    #expect(Self.nmeaDecode(String(nmea("GPGSV,1").dropLast()), filter: ["GGA", "RMC"]) == .skip)
    #expect(Self.nmeaDecode(String(nmea("GPRMC,,V,,,,,,,,,").dropLast()), filter: ["GGA", "RMC"]) != .skip)
    for (line, start) in [("$GPGGA", 0), ("xx$GP$GPGGA", 5), ("!AIVDM", 0), ("no sentence", -1)] {
      #expect(Array(line.utf8).withUnsafeBytes { NMEADecoder.sentenceStart($0) ?? -1 } == start)
    }
  }

  static func csv(_ config: LineProtocolConfig, _ lines: [String]) -> [Expected] {
    let decoder = CSVLineDecoder(config)
    let writer = JSONWriter()
    return lines.map { line in Array(line.utf8).withUnsafeBytes { run(decoder.decode($0, into: writer), writer) } }
  }

  @Test func csvTypedColumns() {
    let config = LineProtocolConfig(
      format: .csv,
      columns: [
        CSVColumn("i", .int), CSVColumn("f", .float), CSVColumn("b", .bool), CSVColumn("s", .string), CSVColumn("a"),
      ])
    let results = Self.csv(
      config,
      [
        "1,2.5,true,x,7",
        " -42 , -.5 , OFF , \" padded \" , 1e3 ",
        "+7,NaN,Y,\"a,b\"\"c\",\"12\"",
        ",,,,",
        "9223372036854775807,00.10,0,é,FALSE",
        "1.5,1,true,x,y",
        "1,x,true,x,y",
        "1,1,maybe,x,y",
        "1,1,1,\"open,y",
        "1,1,1,\"q\"x,y",
        "1,2,3",
        "",
      ])
    #expect(
      results == [
        .json(#"{"i":1,"f":2.5,"b":true,"s":"x","a":7}"#),
        .json(#"{"i":-42,"f":-0.5,"b":false,"s":" padded ","a":1e3}"#),
        .json(#"{"i":7,"f":null,"b":true,"s":"a,b\"c","a":"12"}"#),
        .json(#"{"i":null,"f":null,"b":null,"s":"","a":null}"#),
        .json(#"{"i":9223372036854775807,"f":0.10,"b":false,"s":"é","a":false}"#),
        .reject(.unparsable, "column 'i': '1.5' is not a 64-bit int"),
        .reject(.unparsable, "column 'f': 'x' is not a float within ±1.8e308"),
        .reject(.unparsable, "column 'b': 'maybe' is not a bool"),
        .reject(.unparsable, "unterminated quoted field 4"),
        .reject(.unparsable, "text after the closing quote of field 4"),
        .reject(.unparsable, "expected 5 fields, got 3"),
        .skip,
      ])
  }

  @Test func csvHeaderNamesAndTypes() {
    let config = LineProtocolConfig(format: .csv, csvHeader: true, columns: [CSVColumn("id", .string)], delimiter: ";")
    let results = Self.csv(config, ["id;\"t\"\"q\";;t;t", "007;1.50;x;2;3", "id;\"t\"\"q\";;t;t", "1;2;3"])
    #expect(
      results == [
        .skip, .json(#"{"id":"007","t\"q":1.50,"column_3":"x","t":2,"t_2":3}"#), .skip,
        .reject(.unparsable, "expected 5 fields, got 3"),
      ])
  }

  @Test func eventTimes() {
    func rfc(_ s: String) -> Int64? { Array(s.utf8).withUnsafeBytes { RFC3339.parse($0) } }
    #expect(rfc("1970-01-01T00:00:00Z") == 0)
    #expect(rfc("2024-05-01T12:00:00.250Z") == 1_714_564_800_250)
    #expect(rfc("2024-05-01 14:00:00.25+02:00") == 1_714_564_800_250)
    #expect(rfc("2024-02-29T23:59:59.999999-00:30") == 1_709_252_999_999)
    #expect(rfc("1969-12-31T23:59:59Z") == -1000)
    #expect(rfc("2023-02-29T00:00:00Z") == nil)
    #expect(rfc("2024-05-01T12:00:00") == nil)
    #expect(rfc("2024-05-01T25:00:00Z") == nil)
    #expect(rfc("2024-05-01T12:00:00.Z") == nil)
    func epoch(_ s: String, _ unit: LineProtocolConfig.TimestampUnit) -> Int64? {
      Array(s.utf8).withUnsafeBytes { EpochTime.epochNumber($0, unit: unit) }
    }
    #expect(epoch("1714564800", .seconds) == 1_714_564_800_000)
    #expect(epoch("1714564800.123", .seconds) == 1_714_564_800_123)
    #expect(epoch("1714564800123", .milliseconds) == 1_714_564_800_123)
    #expect(epoch("1714564800123456", .microseconds) == 1_714_564_800_123)
    #expect(epoch("-1500", .microseconds) == -2)
    #expect(epoch("1714564800123456789", .nanoseconds) == 1_714_564_800_123)
    #expect(epoch("99999999999999999", .seconds) == nil)
    #expect(epoch("soon", .milliseconds) == nil)
  }

  @Test func decimalsAndWriter() {
    func decimal(_ s: String) -> String? {
      let w = JSONWriter()
      return Array(s.utf8).withUnsafeBytes { w.decimalText($0) } ? String(decoding: w.bytes, as: UTF8.self) : nil
    }
    #expect(decimal("+08") == "8")
    #expect(decimal("-0.50") == "-0.50")
    #expect(decimal(".5") == "0.5")
    #expect(decimal("3.") == "3")
    #expect(decimal("000") == "0")
    #expect(decimal("1.5E-03") == "1.5e-03")
    for bad in ["", "-", ".", "1e", "1.2.3", "0x10", "1 ", "e5"] { #expect(decimal(bad) == nil, "\(bad)") }
    func double(_ s: String) -> Double? { Array(s.utf8).withUnsafeBytes { DecimalText.double($0) } }
    #expect(double("4807.038") == 4807.038)
    #expect(double("0.1") == 0.1)
    #expect(double("12345678901234567890.5") == 12345678901234567890.5)
    #expect(double("-1e-7") == -1e-7)
    func int(_ s: String) -> Int64? { Array(s.utf8).withUnsafeBytes { DecimalText.int64($0) } }
    #expect(int("-9223372036854775808") == .min)
    #expect(int("9223372036854775808") == nil)
    #expect(int("1.0") == nil)

    let w = JSONWriter()
    w.beginObject()
    w.key("n")
    w.fixed(-0.000_000_04, decimals: 7)
    w.key("m")
    w.fixed(48.117_300_000_4, decimals: 7)
    w.key("z")
    w.fixed(-3.05, decimals: 1)
    w.key("i")
    w.int(.min)
    w.key("d")
    w.double(0.1 + 0.2)
    w.key("e")
    w.double(.infinity)
    w.key("s")
    _ = Array("q\"\\\n\t\u{1}é".utf8).withUnsafeBytes { w.string($0) }
    w.key("a")
    w.beginArray()
    w.float(3.2)
    w.bool(false)
    w.null()
    w.endArray()
    w.endObject()
    #expect(
      String(decoding: w.bytes, as: UTF8.self)
        == #"{"n":0,"m":48.1173,"z":-3.1,"i":-9223372036854775808,"d":0.30000000000000004,"e":null,"s":"q\"\\\n\t\u0001é","a":[3.2,false,null]}"#
    )
    let bad = JSONWriter()
    #expect([UInt8]([0x61, 0xED, 0xA0, 0x80]).withUnsafeBytes { bad.string($0) } == false)  // a UTF-8 surrogate
  }
}
