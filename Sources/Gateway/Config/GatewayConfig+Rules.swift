import Rules
import WeirCore
import Yams

extension GatewayConfig {
  /// `rules:`: `publish_alerts` and `files`, each file checked with the rule parser. Paths start
  /// at the configuration file's directory; each file may be at most ``ConfigLimits/ruleFileBytes``.
  /// Nil when there is no such section.
  static func rules(_ reader: ConfigReader, _ node: Node?, paths: ConfigPaths) -> (publish: Bool?, files: [String])? {
    guard var rules = reader.section(node, path: "rules") else { return nil }
    let publish = reader.bool(&rules, "publish_alerts")
    var files: [String] = []
    var seen: [String: Int] = [:]
    let entries = reader.sequence(&rules, "files") ?? []
    if entries.count > ConfigLimits.ruleFiles {
      reader.problem(
        rules.at("files"), "rules.files", "\(entries.count) rule files; at most \(ConfigLimits.ruleFiles) are read")
      reader.finish(rules)
      return (publish, [])
    }
    for (j, f) in entries.enumerated() {
      guard case .scalar(let scalar) = f, !scalar.string.isEmpty else {
        reader.problem(f, "rules.files[\(j)]", "expected a file path, got \(ConfigReader.kind(f))")
        continue
      }
      let resolved = paths.resolve(scalar.string)
      if let first = seen[resolved] {
        reader.problem(f, "rules.files[\(j)]", "\(resolved) is already rules.files[\(first)]")
        continue
      }
      seen[resolved] = j
      let source: String
      do throws(ConfigError) {
        source = try ConfigFile.read(resolved, limit: ConfigLimits.ruleFileBytes, what: "a rule file")
      } catch {
        for problem in error.problems {
          if problem.line > 0 {
            reader.extra(problem)  // inside the rule file (text that is not UTF-8)
          } else {
            let why =
              problem.message.hasPrefix("cannot read the file: ")
              ? String(problem.message.dropFirst(22)) : problem.message
            reader.problem(
              f, "rules.files[\(j)]",
              "cannot read \(resolved): \(why) (relative paths start at the config file's directory)")
          }
        }
        continue
      }
      for error in RuleFile.parse(source, fileName: resolved).errors {
        reader.extra(
          ConfigProblem(file: resolved, line: error.location.line, key: error.rule ?? "rules", message: error.message))
      }
      files.append(resolved)
    }
    reader.finish(rules)
    return (publish, files)
  }
}
