/// The bounds on rule files and on what one rule may ask of the engine.
///
/// Rule files come from operators and records from devices; these bounds keep the cost of loading a file and of
/// processing a record finite whatever either contains. A rule past one is refused at load with its file, line
/// and column; docs/rules.md lists them for operators.
public enum RuleLimits {
  /// The largest rule file, in bytes (1 MiB).
  public static let maximumSourceBytes = 1 << 20
  /// The most rules one engine runs, over all its files.
  public static let maximumRules = 1000
  /// The longest name (rule, field, topic, option), in UTF-8 bytes.
  public static let maximumNameBytes = 256
  /// The longest string literal (severity, message, topic), in UTF-8 bytes.
  public static let maximumStringBytes = 4096
  /// The longest numeric literal, in characters.
  public static let maximumNumberCharacters = 64
  /// How deeply an expression may nest: parentheses, operators in a row, NOT, unary minus and calls all count.
  public static let maximumExpressionDepth = 200
  /// The longest duration (window sizes, lateness, idle timeouts, duration literals): 100 years of 365.25 days.
  public static let maximumDurationMilliseconds: Int64 = 36_525 * 86_400_000
  /// The most panes a tumbling or hopping window is built from (size / gcd(size, advance)); it also bounds the
  /// windows one record falls in (size / advance), and so the windows one record can close.
  public static let maximumPanesPerWindow: Int64 = 10_000
  /// The largest COUNT(n) window.
  public static let maximumCountWindow = 1_000_000_000
  /// The largest n of CLEAR AFTER n WINDOWS.
  public static let maximumClearAfterWindows = 1_000_000
  /// The largest array index in a field path (`axes[3]`).
  public static let maximumArrayIndex = 1_000_000
  /// Partitions per topic the engine tracks offsets for; records of other partitions are skipped and counted.
  public static let maximumPartitions: Int32 = 1 << 16
}

extension RuleLimits {
  /// The longest duration in seconds, for parameters given in seconds (forecast horizons).
  static var maximumDurationSeconds: Double { Double(maximumDurationMilliseconds) / 1000 }

  /// Formats a millisecond duration the way rule files write it, in the largest unit that divides it.
  static func format(milliseconds ms: Int64) -> String {
    for (unit, scale) in [("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)] as [(String, Int64)]
    where ms != 0 && ms % scale == 0 {
      return "\(ms / scale)\(unit)"
    }
    return "\(ms)ms"
  }
}
