import Foundation

/// NMEA 0183 sentences: `$<talker><type>,<fields>*<hh>\r\n`, where `hh` is the XOR of every byte
/// between `$` and `*`, in two upper-case hex digits.
public enum NMEA {
  /// The checksum of a sentence body (the text between `$` and `*`).
  public static func checksum<Bytes: Sequence<UInt8>>(_ body: Bytes) -> UInt8 {
    body.reduce(0, ^)
  }

  /// A full sentence line for a body, with its checksum and CR LF. `corrupt` flips the checksum
  /// (the bad-checksum fault).
  public static func sentence(_ body: String, corrupt: Bool = false) -> String {
    var sum = checksum(body.utf8)
    if corrupt { sum ^= 0x5A }
    return "$\(body)*\(hex(sum))\r\n"
  }

  /// Whether a line (with or without CR LF) is a sentence with a correct checksum.
  public static func isValid(_ line: String) -> Bool {
    let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
    guard trimmed.hasPrefix("$"), let star = trimmed.lastIndex(of: "*") else { return false }
    let body = trimmed[trimmed.index(after: trimmed.startIndex)..<star]
    let given = trimmed[trimmed.index(after: star)...]
    return given.count == 2 && UInt8(given, radix: 16) == checksum(body.utf8)
  }

  static func hex(_ value: UInt8) -> String {
    String(decoding: [JSONBytes.hexDigit(value >> 4), JSONBytes.hexDigit(value & 0xF)], as: UTF8.self)
  }
}

/// Formats a device's readings as a GPS-equipped asset would report them: position (GGA, RMC,
/// VTG) and its measurements as transducer values (XDR), all stamped with simulated UTC time.
struct NMEAEncoder {
  /// Latitude and longitude in degrees; the device drifts a few metres around its home position.
  private(set) var latitude: Double
  private(set) var longitude: Double
  private var rng: Xoshiro256

  init(seed: UInt64) {
    var rng = Xoshiro256(seed: seed)
    latitude = 52.5 + rng.uniform(-0.2, 0.2)
    longitude = 13.4 + rng.uniform(-0.3, 0.3)
    self.rng = rng
  }

  /// The sentences for one reading, each a full line. `corrupt` picks sentences whose checksum is
  /// made wrong.
  mutating func sentences(
    kind: DeviceKind, values: SIMD4<Double>, epochMillis: Int64, corrupt: (Int) -> Bool
  ) -> [String] {
    latitude += rng.gaussian() * 2e-6
    longitude += rng.gaussian() * 3e-6
    let speedKnots = abs(rng.gaussian()) * 0.05
    let course = rng.uniform(0, 360)
    let time = Self.utcTime(epochMillis)
    let date = Self.utcDate(epochMillis)
    let lat = Self.coordinate(latitude, degreesDigits: 2, positive: "N", negative: "S")
    let lon = Self.coordinate(longitude, degreesDigits: 3, positive: "E", negative: "W")
    let bodies = [
      "GPGGA,\(time),\(lat),\(lon),1,09,0.9,\(Self.fixed(42.3, 1)),M,\(Self.fixed(44.1, 1)),M,,",
      "GPRMC,\(time),A,\(lat),\(lon),\(Self.fixed(speedKnots, 2)),\(Self.fixed(course, 1)),\(date),3.5,E,A",
      "GPVTG,\(Self.fixed(course, 1)),T,,M,\(Self.fixed(speedKnots, 2)),N,\(Self.fixed(speedKnots * 1.852, 2)),K,A",
      "IIXDR," + Self.transducers(kind: kind, values: values),
    ]
    return bodies.enumerated().map { NMEA.sentence($1, corrupt: corrupt($0)) }
  }

  /// XDR quadruplets `type,value,unit,name` for each measurement.
  static func transducers(kind: DeviceKind, values: SIMD4<Double>) -> String {
    kind.fields.enumerated().map { index, field in
      let (type, unit): (String, String) =
        switch field.name {
        case "temperature": ("C", "C")
        case "pressure": ("P", "B")
        case "humidity": ("H", "P")
        case "rpm": ("T", "R")
        case "current": ("I", "A")
        case "flow": ("G", "")
        default: ("G", "")
        }
      return "\(type),\(fixed(values[index], field.decimals)),\(unit),\(field.name.uppercased())"
    }.joined(separator: ",")
  }

  /// `ddmm.mmmm,N` or `dddmm.mmmm,E`.
  static func coordinate(_ degrees: Double, degreesDigits: Int, positive: String, negative: String) -> String {
    let magnitude = abs(degrees)
    var whole = Int(magnitude)
    var minutes = (magnitude - Double(whole)) * 60
    if (minutes * 10_000).rounded() >= 600_000 {
      whole += 1
      minutes = 0
    }
    var text = String(whole)
    while text.count < degreesDigits { text = "0" + text }
    let minuteText = fixed(minutes, 4)
    return text + (minutes < 10 ? "0" : "") + minuteText + "," + (degrees >= 0 ? positive : negative)
  }

  /// `hhmmss.ss` UTC.
  static func utcTime(_ epochMillis: Int64) -> String {
    let millisOfDay = Int((epochMillis % 86_400_000 + 86_400_000) % 86_400_000)
    let seconds = millisOfDay / 1000
    let hundredths = millisOfDay % 1000 / 10
    return two(seconds / 3600) + two(seconds / 60 % 60) + two(seconds % 60) + "." + two(hundredths)
  }

  /// `ddmmyy` UTC (civil-from-days, Howard Hinnant's algorithm).
  static func utcDate(_ epochMillis: Int64) -> String {
    let days = Int((epochMillis - (epochMillis % 86_400_000 + 86_400_000) % 86_400_000) / 86_400_000)
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let dayOfEra = z - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let mp = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    return two(day) + two(month) + two(year % 100)
  }

  static func two(_ value: Int) -> String {
    value < 10 ? "0\(value)" : "\(value)"
  }

  static func fixed(_ value: Double, _ decimals: Int) -> String {
    var bytes: [UInt8] = []
    JSONBytes.appendFixed(value, decimals: decimals, to: &bytes)
    return String(decoding: bytes, as: UTF8.self)
  }
}
