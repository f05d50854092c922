import Payload
import Testing

@Suite struct RFC3339Tests {
  @Test(arguments: [
    ("2023-11-14T22:13:20Z", Int64(1_700_000_000_000)), ("2023-11-14T22:13:20.123Z", 1_700_000_000_123),
    ("2023-11-14T23:13:20.5+01:00", 1_700_000_000_500), ("1970-01-01T00:00:00Z", 0),
    ("2000-02-29T12:00:00-00:30", 951_827_400_000), ("2016-12-31T23:59:60Z", 1_483_228_799_000),
    ("2023-11-14t22:13:20z", 1_700_000_000_000), ("2023-11-14 22:13:20.123456Z", 1_700_000_000_123),
  ])
  func parses(_ text: String, _ ms: Int64) {
    #expect(RFC3339.parse(text) == ms)
  }

  @Test(arguments: [
    "2023-13-01T00:00:00Z", "2023-02-29T00:00:00Z", "2023-04-31T00:00:00Z", "2023-11-14 22:13", "yesterday",
    "2023-11-14T22:13:20", "2023-11-14T24:00:00Z", "2023-11-14T22:13:20.Z", "2023-11-14T22:13:20+25:00",
    "2023-11-14T22:13:20+01", "2023-11-14T22:13:20Zjunk", "",
  ])
  func refuses(_ text: String) {
    #expect(RFC3339.parse(text) == nil)
  }

  @Test(arguments: [Int64(0), 1_700_000_000_123, -1, 951_827_400_000, 4_102_444_799_999, -62_135_596_800_000])
  func formatsWhatItParses(_ ms: Int64) {
    #expect(RFC3339.parse(RFC3339.format(ms)) == ms)
  }

  @Test func formats() {
    #expect(RFC3339.format(1_700_000_000_123) == "2023-11-14T22:13:20.123Z")
    #expect(RFC3339.format(-1) == "1969-12-31T23:59:59.999Z")
    #expect(RFC3339.format(946_684_800_000, milliseconds: false) == "2000-01-01T00:00:00Z")
    // Every Int64 instant has a text, RFC 3339 or not.
    #expect(RFC3339.format(.max).hasPrefix("292278994-08-17T07:12:55.807Z"))
    #expect(RFC3339.format(.min).hasPrefix("-292275055-05-16T16:47:04.192Z"))
  }

  @Test func calendar() {
    #expect(Civil.days(year: 1970, month: 1, day: 1) == 0)
    #expect(Civil.days(year: 2000, month: 3, day: 1) == 11_017)
    #expect(Civil.date(fromDays: 11_016) == (2000, 2, 29))
    #expect(Civil.daysIn(month: 2, year: 1900) == 28)
    #expect(Civil.daysIn(month: 2, year: 2000) == 29)
  }
}
