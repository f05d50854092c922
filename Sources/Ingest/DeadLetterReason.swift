/// Why a message went to the dead-letter topic. The code is the metric label and starts the
/// `weir.error` header (`"invalid_json: unexpected '}' at byte 17"`).
public enum DeadLetterReason: String, Sendable, CaseIterable {
  case invalidJSON = "invalid_json"
  case missingKey = "missing_key"
  case missingTimestamp = "missing_timestamp"
  case badTimestamp = "bad_timestamp"
  case oversize = "oversize"
  case badChecksum = "bad_checksum"
  case unparsable = "unparsable"
  case lineTooLong = "line_too_long"
  case invalidText = "invalid_text"
}
