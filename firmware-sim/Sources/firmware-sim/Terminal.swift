import FirmwareSim
import Foundation

/// Output for the CLI: progress and errors on stderr, results on stdout.
enum Terminal {
  static func error(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
  }

  static func output(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
  }

  /// The progress sink for long runs (nil when quiet).
  static func progress(quiet: Bool) -> ProgressSink? {
    if quiet { return nil }
    return { @Sendable line in error(line) }
  }
}
