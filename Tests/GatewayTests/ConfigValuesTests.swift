import Gateway
import Testing
import WeirCore

/// Sizes and durations: every text either parses to the value meant or is refused with a reason;
/// none traps, however large.
@Suite struct ConfigValuesTests {
  @Test(arguments: [
    ("0", Int64(0)), ("4096", 4096), ("1B", 1), ("500kB", 500_000), ("500KB", 500_000), ("64MiB", 64 << 20),
    ("10 MiB", 10 << 20), (" 1GiB ", 1 << 30), ("2TB", 2_000_000_000_000), ("1024TiB", 1 << 50),
    ("1125899906842624", 1 << 50),
  ])
  func sizes(_ text: String, _ bytes: Int64) throws {
    #expect(try ConfigValues.size(text) == bytes)
  }

  @Test(arguments: [
    // Past Int64 once multiplied (the trap of 8388608TiB), past the ceiling, past Int64 as digits.
    ("8388608TiB", "too large"), ("1025TiB", "too large"), ("1125899906842625", "too large"),
    ("99999999999999999999", "too large"), ("9223372036854775807", "too large"), ("9223372036854775807B", "too large"),
    ("-1", "negative"), ("-5MiB", "negative"), ("", "expected a size"), ("MiB", "expected a size"),
    ("1.5GiB", "expected a size"), ("0x10", "expected a size"), ("1e3", "expected a size"), ("ten", "expected a size"),
    ("5 PiB", "expected a size"), ("+-5", "expected a size"),
  ])
  func refusedSizes(_ text: String, _ reason: String) {
    #expect(ConfigValues.bytes(text) == nil)
    do {
      let v = try ConfigValues.size(text)
      Issue.record("'\(text)' was accepted as \(v)")
    } catch {
      #expect(error.message.contains(reason), "\(error.message)")
      if reason == "too large" { #expect(error.message.contains("1024TiB"), "the message names the largest size") }
    }
  }

  @Test(arguments: [
    ("500ms", Int64(500)), ("30s", 30_000), ("10m", 600_000), ("2h", 7_200_000), ("7d", 604_800_000),
    ("1w", 604_800_000),
    ("1.5s", 1500), ("30", 30_000), ("0", 0), ("0.4ms", 0), ("0.5ms", 1), ("36500d", 3_153_600_000_000),
    (" 5 s ", 5000),
  ])
  func durations(_ text: String, _ ms: Int64) throws {
    #expect(try ConfigValues.duration(text) == ms)
  }

  @Test(arguments: [
    // 106751991168d is Int64 milliseconds' overflow; 1e30s and inf trapped converting a Double.
    ("106751991168d", "too long"), ("36501d", "too long"), ("5215w", "too long"),
    (
      "99999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999s",
      "too long"
    ),
    ("1e30s", "expected a duration"), ("inf", "expected a duration"), ("infinity", "expected a duration"),
    ("nan", "expected a duration"), ("0x10s", "expected a duration"), ("-1s", "negative"), ("-0.5", "negative"),
    ("", "expected a duration"), ("s", "expected a duration"), ("1.s", "expected a duration"),
    (".5s", "expected a duration"),
    ("5y", "expected a duration"), ("1h30m", "expected a duration"),
  ])
  func refusedDurations(_ text: String, _ reason: String) {
    #expect(ConfigValues.milliseconds(text) == nil)
    do {
      let v = try ConfigValues.duration(text)
      Issue.record("'\(text)' was accepted as \(v)")
    } catch {
      #expect(error.message.contains(reason), "\(error.message)")
      if reason == "too long" { #expect(error.message.contains("36500d"), "the message names the longest duration") }
    }
  }

  @Test(arguments: [(Int64(4 << 20), "4MiB"), (1500, "1500B"), (1 << 50, "1024TiB"), (0, "0B"), (3 << 10, "3KiB")])
  func describedSizes(_ n: Int64, _ text: String) { #expect(ConfigValues.describeBytes(n) == text) }

  @Test(arguments: [(Int64(30_000), "30s"), (1500, "1500ms"), (604_800_000, "7d"), (0, "0ms"), (65_535_000, "65535s")])
  func describedDurations(_ ms: Int64, _ text: String) { #expect(ConfigValues.describeMilliseconds(ms) == text) }

  /// The ceilings leave room for the arithmetic done on them later: nanoseconds from a
  /// monotonic clock plus a duration, and a sum of three sizes.
  @Test func ceilingsLeaveRoomForLaterArithmetic() {
    let (ns, o1) = ConfigValues.maxMilliseconds.multipliedReportingOverflow(by: 1_000_000)
    #expect(!o1)
    #expect(!ns.addingReportingOverflow(Int64(100 * 365) * 86_400 * 1_000_000_000).overflow)
    #expect(!(ConfigValues.maxBytes * 3).addingReportingOverflow(1 << 20).overflow)
  }
}
