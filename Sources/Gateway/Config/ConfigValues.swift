/// Sizes and durations written the human way in configuration files.
public enum ConfigValues {
  /// `64MiB`, `1GiB`, `500kB`, `4096` (bytes).
  public static func bytes(_ text: String) -> Int64? {
    let t = text.trimmingCharacters(in: .whitespaces)
    let units: [(String, Int64)] = [
      ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("TiB", 1 << 40), ("kB", 1000), ("KB", 1000),
      ("MB", 1_000_000), ("GB", 1_000_000_000), ("TB", 1_000_000_000_000), ("B", 1),
    ]
    for (suffix, factor) in units where t.hasSuffix(suffix) {
      guard let n = Int64(t.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), n >= 0 else { return nil }
      return n * factor
    }
    return Int64(t).flatMap { $0 >= 0 ? $0 : nil }
  }

  /// `500ms`, `30s`, `10m`, `2h`, `7d` in milliseconds; a bare number is seconds.
  public static func milliseconds(_ text: String) -> Int64? {
    let t = text.trimmingCharacters(in: .whitespaces)
    let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000), ("w", 604_800_000)]
    for (suffix, factor) in units where t.hasSuffix(suffix) {
      guard let n = Double(t.dropLast(suffix.count)), n >= 0, n.isFinite else { return nil }
      return Int64((n * Double(factor)).rounded())
    }
    return Double(t).flatMap { $0 >= 0 ? Int64(($0 * 1000).rounded()) : nil }
  }
}

import Foundation
