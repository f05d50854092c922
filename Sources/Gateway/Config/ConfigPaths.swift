import Foundation

/// Resolves the file paths a configuration names against the configuration file's own
/// directory, so `weir config check weir.yaml` and `weir run --config /etc/weir/weir.yaml` find
/// the same rule files whatever the working directory.
struct ConfigPaths {
  /// The configuration file, absolute.
  let file: String
  /// Its directory, absolute.
  let directory: String

  /// `file` made absolute against `workingDirectory` (the process's by default).
  init(file: String, workingDirectory: String = FileManager.default.currentDirectoryPath) {
    let absolute = Self.absolute(file, in: workingDirectory)
    self.file = absolute
    let parent = (absolute as NSString).deletingLastPathComponent
    directory = parent.isEmpty ? "/" : parent
  }

  /// `path` as is when absolute, else under the configuration file's directory.
  func resolve(_ path: String) -> String { Self.absolute(path, in: directory) }

  /// `path` joined to `base` unless it is absolute, with `.` and `..` components removed.
  static func absolute(_ path: String, in base: String) -> String {
    let joined = path.hasPrefix("/") ? path : (base.hasSuffix("/") ? base : base + "/") + path
    var parts: [Substring] = []
    for part in joined.split(separator: "/", omittingEmptySubsequences: true) {
      switch part {
      case ".": continue
      case "..": _ = parts.popLast()
      default: parts.append(part)
      }
    }
    return "/" + parts.joined(separator: "/")
  }
}
