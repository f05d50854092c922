import Payload

/// The sentence types decoded into named fields, and the field parsers they share. An empty field
/// becomes null; a field that cannot be read rejects the sentence as `unparsable`.
extension NMEADecoder {
  /// GGA: time, position and fix data.
  func gga(_ out: JSONWriter) throws(FieldError) {
    try requireFields(10, "altitude")
    out.key("time")
    try time(1, out)
    out.key("lat")
    try coordinate(2, out, latitude: true)
    out.key("lon")
    try coordinate(4, out, latitude: false)
    out.key("fix_quality")
    try integer(6, "fix quality", out)
    out.key("satellites")
    try integer(7, "satellites", out)
    out.key("hdop")
    try number(8, "hdop", out)
    out.key("altitude_m")
    try number(9, "altitude", out)
    out.key("geoid_separation_m")
    try number(11, "geoid separation", out)
    out.key("dgps_age_s")
    try number(13, "DGPS age", out)
    out.key("dgps_station")
    text(14, out)
  }

  /// RMC: recommended minimum data; with date and time also `epoch_ms`, usable as event time.
  func rmc(_ out: JSONWriter) throws(FieldError) {
    try requireFields(10, "date")
    out.key("time")
    let timeOfDay = try time(1, out)
    out.key("valid")
    let status = field(2)
    if status.isEmpty {
      out.null()
    } else if status.count == 1 && (status[0] == UInt8(ascii: "A") || status[0] == UInt8(ascii: "V")) {
      out.bool(status[0] == UInt8(ascii: "A"))
    } else {
      throw FieldError(index: 2, name: "status", problem: "is not A or V")
    }
    out.key("lat")
    try coordinate(3, out, latitude: true)
    out.key("lon")
    try coordinate(5, out, latitude: false)
    out.key("speed_knots")
    try number(7, "speed", out)
    out.key("course_deg")
    try number(8, "course", out)
    out.key("date")
    let day = try date(9, out)
    out.key("magnetic_variation_deg")
    try signed(10, hemisphere: 11, negative: UInt8(ascii: "W"), positive: UInt8(ascii: "E"), "magnetic variation", out)
    out.key("mode")
    text(12, out)
    if let day, let timeOfDay {
      out.key("epoch_ms")
      out.int(Int64(day) * 86_400_000 + timeOfDay)
    }
  }

  /// VTG: course and speed over ground (NMEA 2.3+ with unit letters, or the older four fields).
  func vtg(_ out: JSONWriter) throws(FieldError) {
    try requireFields(5, "speed")
    let modern = fields.count >= 9 && field(2).count == 1 && field(2)[0] == UInt8(ascii: "T")
    out.key("course_true_deg")
    try number(1, "true course", out)
    out.key("course_magnetic_deg")
    try number(modern ? 3 : 2, "magnetic course", out)
    out.key("speed_knots")
    try number(modern ? 5 : 3, "speed in knots", out)
    out.key("speed_kmh")
    try number(modern ? 7 : 4, "speed in km/h", out)
    out.key("mode")
    if modern { text(9, out) } else { out.null() }
  }

  /// XDR: transducer measurements in groups of type, value, unit and name, as
  /// `"transducers": {"<name>": {"type", "value", "unit"}}` (a missing name becomes the group's index).
  func xdr(_ out: JSONWriter) throws(FieldError) {
    try requireFields(5, "measurement")
    guard (fields.count - 1) % 4 == 0 else {
      throw FieldError(
        index: fields.count - 1, name: "measurement", problem: "leaves an incomplete group of four fields")
    }
    out.key("transducers")
    out.beginObject()
    var group = 0
    var i = 1
    while i + 3 < fields.count {
      let name = field(i + 3)
      if name.isEmpty {
        var digits: (UInt8, UInt8, UInt8) = (0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { d in
          var n = group
          var count = 0
          repeat {
            d[count] = UInt8(ascii: "0") + UInt8(n % 10)
            n /= 10
            count += 1
          } while n > 0 && count < 3
          var used = UnsafeMutableRawBufferPointer(rebasing: d[0..<count])
          used.reverse()
          out.key(UnsafeRawBufferPointer(used))
        }
      } else {
        out.key(name)
      }
      out.beginObject()
      out.key("type")
      text(i, out)
      out.key("value")
      try number(i + 1, "measurement value", out)
      out.key("unit")
      text(i + 2, out)
      out.endObject()
      group += 1
      i += 4
    }
    out.endObject()
  }

  private func requireFields(_ count: Int, _ name: StaticString) throws(FieldError) {
    if fields.count < count {
      throw FieldError(index: fields.count, name: name, problem: "is missing (too few fields)")
    }
  }

  /// A field as a string, null when empty.
  func text(_ i: Int, _ out: JSONWriter) {
    let f = field(i)
    if f.isEmpty { out.null() } else { out.string(f) }
  }

  func integer(_ i: Int, _ name: StaticString, _ out: JSONWriter) throws(FieldError) {
    let f = field(i)
    if f.isEmpty { return out.null() }
    guard let value = DecimalText.int64(f) else {
      throw FieldError(index: i, name: name, problem: "is not an integer")
    }
    out.int(value)
  }

  func number(_ i: Int, _ name: StaticString, _ out: JSONWriter) throws(FieldError) {
    let f = field(i)
    if f.isEmpty { return out.null() }
    guard out.decimalText(f) else {
      throw FieldError(index: i, name: name, problem: "is not a number (or is beyond ±1.8e308)")
    }
  }

  /// A magnitude with an E/W (or N/S) letter in the next field, negative for `negative`.
  func signed(
    _ i: Int, hemisphere: Int, negative: UInt8, positive: UInt8, _ name: StaticString, _ out: JSONWriter
  ) throws(FieldError) {
    let f = field(i)
    if f.isEmpty { return out.null() }
    guard let value = DecimalText.double(f) else {
      throw FieldError(index: i, name: name, problem: "is not a number")
    }
    guard value.magnitude <= 180 else { throw FieldError(index: i, name: name, problem: "is out of range (over 180)") }
    let h = field(hemisphere)
    guard h.count == 1, h[0] == negative || h[0] == positive else {
      throw FieldError(index: hemisphere, name: name, problem: "is not a direction letter")
    }
    out.fixed(h[0] == negative ? -value : value, decimals: 6)
  }

  /// `hhmmss[.sss]` as `"hh:mm:ss[.sss]"`; returns milliseconds since midnight (nil when empty).
  @discardableResult
  func time(_ i: Int, _ out: JSONWriter) throws(FieldError) -> Int64? {
    let f = field(i)
    if f.isEmpty {
      out.null()
      return nil
    }
    let bad = FieldError(index: i, name: "time", problem: "is not hhmmss[.sss]")
    guard f.count >= 6, (0..<6).allSatisfy({ DecimalText.isDigit(f[$0]) }) else { throw bad }
    let h = Int64(f[0] &- 48) * 10 + Int64(f[1] &- 48)
    let m = Int64(f[2] &- 48) * 10 + Int64(f[3] &- 48)
    let s = Int64(f[4] &- 48) * 10 + Int64(f[5] &- 48)
    guard h < 24, m < 60, s < 61 else { throw bad }
    var millis: Int64 = 0
    if f.count > 6 {
      guard f[6] == UInt8(ascii: "."), f.count > 7, (7..<f.count).allSatisfy({ DecimalText.isDigit(f[$0]) }) else {
        throw bad
      }
      var place: Int64 = 100
      for j in 7..<min(f.count, 10) {
        millis += Int64(f[j] &- 48) * place
        place /= 10
      }
    }
    out.beginString()
    out.content(UnsafeRawBufferPointer(rebasing: f[0..<2]))
    out.content(UInt8(ascii: ":"))
    out.content(UnsafeRawBufferPointer(rebasing: f[2..<4]))
    out.content(UInt8(ascii: ":"))
    out.content(UnsafeRawBufferPointer(rebasing: f[4..<f.count]))
    out.endString()
    return ((h * 60 + m) * 60 + min(s, 59)) * 1000 + millis
  }

  /// `ddmmyy` as `"20yy-mm-dd"` (years 80-99 are 1980-1999); returns days since the epoch.
  func date(_ i: Int, _ out: JSONWriter) throws(FieldError) -> Int? {
    let f = field(i)
    if f.isEmpty {
      out.null()
      return nil
    }
    let bad = FieldError(index: i, name: "date", problem: "is not ddmmyy")
    guard f.count == 6, (0..<6).allSatisfy({ DecimalText.isDigit(f[$0]) }) else { throw bad }
    let d = Int(f[0] &- 48) * 10 + Int(f[1] &- 48)
    let m = Int(f[2] &- 48) * 10 + Int(f[3] &- 48)
    let yy = Int(f[4] &- 48) * 10 + Int(f[5] &- 48)
    let year = yy >= 80 ? 1900 + yy : 2000 + yy
    guard (1...12).contains(m), d >= 1, d <= Civil.daysIn(month: m, year: year) else { throw bad }
    out.beginString()
    out.content(yy >= 80 ? "19" : "20")
    out.content(UnsafeRawBufferPointer(rebasing: f[4..<6]))
    out.content(UInt8(ascii: "-"))
    out.content(UnsafeRawBufferPointer(rebasing: f[2..<4]))
    out.content(UInt8(ascii: "-"))
    out.content(UnsafeRawBufferPointer(rebasing: f[0..<2]))
    out.endString()
    return Civil.days(year: year, month: m, day: d)
  }

  /// `ddmm.mmmm` (latitude) or `dddmm.mmmm` (longitude) with N/S or E/W in the next field, as
  /// signed decimal degrees to 7 places (about 1 cm).
  func coordinate(_ i: Int, _ out: JSONWriter, latitude: Bool) throws(FieldError) {
    let f = field(i)
    let name: StaticString = latitude ? "latitude" : "longitude"
    if f.isEmpty { return out.null() }
    guard let decimal = DecimalText(f), !decimal.negative, decimal.exponent.isEmpty, decimal.integer.count >= 3 else {
      throw FieldError(index: i, name: name, problem: "is not ddmm.mmmm")
    }
    let raw = decimal.doubleValue(f)
    let degrees = (raw / 100).rounded(.down)
    let minutes = raw - degrees * 100
    let value = degrees + minutes / 60
    guard minutes < 60, value <= (latitude ? 90 : 180) else {
      throw FieldError(index: i, name: name, problem: "is out of range")
    }
    let h = field(i + 1)
    let negative = latitude ? UInt8(ascii: "S") : UInt8(ascii: "W")
    let positive = latitude ? UInt8(ascii: "N") : UInt8(ascii: "E")
    guard h.count == 1, h[0] == negative || h[0] == positive else {
      throw FieldError(index: i + 1, name: latitude ? "N/S" : "E/W", problem: "is not a hemisphere letter")
    }
    out.fixed(h[0] == negative ? -value : value, decimals: 7)
  }
}
