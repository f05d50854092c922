import Foundation

/// Sizes and durations written the human way in configuration files.
///
/// Every parse is checked: a value past ``maxBytes`` or ``maxMilliseconds`` is refused with a
/// message naming the largest accepted value, never wrapped or trapped on.
public enum ConfigValues {
  /// The largest size any key accepts: 1024TiB (1 PiB). Small enough that a sum of a few sizes
  /// (as the batch checks do) cannot overflow `Int64`.
  public static let maxBytes: Int64 = 1 << 50

  /// The largest duration any key accepts: 36500d (100 years). In nanoseconds, as the log and the
  /// uplinks compute deadlines, this still leaves a monotonic clock's worth of room in `Int64`.
  public static let maxMilliseconds: Int64 = 36_500 * 86_400_000

  /// Why a size or duration text was refused.
  public struct Refusal: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
  }

  private static let sizeUnits: [(String, Int64)] = [
    ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("TiB", 1 << 40), ("kB", 1000), ("KB", 1000),
    ("MB", 1_000_000), ("GB", 1_000_000_000), ("TB", 1_000_000_000_000), ("B", 1),
  ]

  private static let durationUnits: [(String, Int64)] = [
    ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000), ("w", 604_800_000),
  ]

  /// `64MiB`, `1GiB`, `500kB`, `4096` (bytes); nil for anything else, negative, or past ``maxBytes``.
  public static func bytes(_ text: String) -> Int64? { try? size(text) }

  /// `500ms`, `30s`, `10m`, `2h`, `7d` in milliseconds (a bare number is seconds); nil for
  /// anything else, negative, or past ``maxMilliseconds``.
  public static func milliseconds(_ text: String) -> Int64? { try? duration(text) }

  /// The number before the first unit of `units` that `text` ends with (trimmed) and that
  /// unit's factor; `defaultFactor` when no unit matches.
  private static func splitUnit(_ text: String, _ units: [(String, Int64)], default defaultFactor: Int64)
    -> (Substring, Int64)
  {
    let t = text.trimmingCharacters(in: .whitespaces)
    let (number, factor) =
      units.first { t.hasSuffix($0.0) }.map { (t.dropLast($0.0.count), $0.1) } ?? (Substring(t), defaultFactor)
    return (Substring(number.trimmingCharacters(in: .whitespaces)), factor)
  }

  /// Parses a size, or says what is wrong with it.
  public static func size(_ text: String) throws(Refusal) -> Int64 {
    let (digits, factor) = splitUnit(text, sizeUnits, default: 1)
    if digits.hasPrefix("-"), digits.dropFirst().allSatisfy(\.isASCIIDigit), digits.count > 1 {
      throw Refusal(message: "a size cannot be negative, got '\(text)'")
    }
    guard !digits.isEmpty, digits.allSatisfy(\.isASCIIDigit) else {
      throw Refusal(message: "expected a size such as 64MiB, 1GiB or 4096, got '\(text)'")
    }
    let tooLarge = Refusal(
      message: "'\(text)' is too large: the largest size accepted is 1024TiB (\(maxBytes) bytes)")
    guard let n = Int64(digits) else { throw tooLarge }
    let (product, overflow) = n.multipliedReportingOverflow(by: factor)
    guard !overflow, product <= maxBytes else { throw tooLarge }
    return product
  }

  /// Parses a duration in milliseconds, or says what is wrong with it. Fractions round to the
  /// nearest millisecond (`1.5s` is 1500).
  public static func duration(_ text: String) throws(Refusal) -> Int64 {
    let (number, factor) = splitUnit(text, durationUnits, default: 1000)
    if number.hasPrefix("-"), isDecimal(number.dropFirst()) {
      throw Refusal(message: "a duration cannot be negative, got '\(text)'")
    }
    // Only plain decimals: Double alone would also take `inf`, `nan` and `0x1p4`.
    guard isDecimal(number), let n = Double(number) else {
      throw Refusal(message: "expected a duration such as 500ms, 30s, 10m, 2h or 7d, got '\(text)'")
    }
    let ms = (n * Double(factor)).rounded()
    // Checked before converting: Int64(Double) traps past Int64, and 1e400 parses as infinity.
    guard ms.isFinite, ms <= Double(maxMilliseconds) else {
      throw Refusal(message: "'\(text)' is too long: the longest duration accepted is 36500d (100 years)")
    }
    return Int64(ms)
  }

  /// Digits with an optional fraction: `12`, `1.5`.
  private static func isDecimal(_ s: Substring) -> Bool {
    let parts = s.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
    guard let whole = parts.first, !whole.isEmpty, whole.allSatisfy(\.isASCIIDigit) else { return false }
    return parts.count == 1 || (!parts[1].isEmpty && parts[1].allSatisfy(\.isASCIIDigit))
  }

  /// A size in the unit a person would write it in: `4MiB`, `1500B`.
  public static func describeBytes(_ n: Int64) -> String {
    for (suffix, f) in [("TiB", Int64(1) << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)]
    where n >= f && n % f == 0 {
      return "\(n / f)\(suffix)"
    }
    return "\(n)B"
  }

  /// A duration in the unit a person would write it in: `30s`, `1500ms`, `7d`.
  public static func describeMilliseconds(_ ms: Int64) -> String {
    for (suffix, f) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1000)]
    where ms >= f && ms % f == 0 {
      return "\(ms / f)\(suffix)"
    }
    return "\(ms)ms"
  }
}

extension Character {
  fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
