/// What a decoder made of one line.
enum LineOutcome {
  /// A record: its JSON value is in the writer (or, for JSON lines, is the line itself).
  case record
  /// Deliberately not recorded (a repeated CSV header, an NMEA sentence outside the filter).
  case skip
  /// Goes to the dead-letter topic with this reason and detail.
  case reject(DeadLetterReason, String)
}
