import WeirCore

/// Durations in the serial and Modbus sections, written as everywhere else in the configuration (`500ms`, `2s`, a
/// bare number is seconds; ``ConfigValues/duration(_:)``). The older `_ms` keys (a whole number of milliseconds) are
/// still read for one release; the configuration loader warns about them.
extension KeyedDecodingContainer {
  /// The duration under `key`, or the milliseconds under the deprecated `legacyMs` key; nil when neither is given.
  func duration(_ key: Key, legacyMs: Key) throws -> Int? {
    if contains(key) && contains(legacyMs) {
      throw DecodingError.dataCorruptedError(
        forKey: legacyMs, in: self,
        debugDescription:
          "give \(key.stringValue) (a duration such as 500ms) or the older \(legacyMs.stringValue), not both")
    }
    if contains(legacyMs) { return try decode(Int.self, forKey: legacyMs) }
    guard contains(key) else { return nil }
    let text = try decode(String.self, forKey: key)
    do {
      guard let ms = Int(exactly: try ConfigValues.duration(text)) else { return nil }
      return ms
    } catch {
      throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: error.message)
    }
  }
}

/// The deprecated `_ms` keys of the serial and Modbus sections and what replaces each.
public enum DeprecatedKeys {
  public static let replacements: [String: String] = [
    "reopen_initial_delay_ms": "reopen_initial_delay", "reopen_max_delay_ms": "reopen_max_delay",
    "response_timeout_ms": "response_timeout", "interval_ms": "interval",
  ]
}
