/// What a `reload` did.
public struct RuleReloadReport: Sendable {
  /// Rules that are new or whose text changed: they start with empty state.
  public var started: [String] = []
  /// Rules whose text did not change: they keep their windows, watermarks and alert states.
  public var kept: [String] = []
  /// Rules no longer in the file: stopped, their state dropped.
  public var removed: [String] = []
  /// Rules that failed to parse or check, each with its located error.
  public var refused: [RuleError] = []
  /// Refused rules whose previous version keeps running.
  public var keptPrevious: [String] = []
}

extension RuleEngine {
  /// Swaps in the rules of `source`, keeping the state of every rule whose text did not change.
  ///
  /// A rule that fails to parse or check is refused with its error; if a rule of that name was running, the old
  /// version keeps running. The other rules are loaded regardless. Comments and layout are not changes.
  @discardableResult
  public func reload(source: String, fileName: String) -> RuleReloadReport {
    reload(files: [(source, fileName)])
  }

  /// ``reload(source:fileName:)`` for rules spread over several files; a rule name defined in two
  /// files is refused in the second.
  @discardableResult
  public func reload(files: [(source: String, fileName: String)]) -> RuleReloadReport {
    var compiled: [CompiledRule] = []
    var names: Set<String> = []
    var errors: [RuleError] = []
    for (source, fileName) in files {
      let (rules, fileErrors) = RuleFile.compile(source, fileName: fileName)
      errors += fileErrors
      for rule in rules {
        if names.contains(rule.name) {
          errors.append(
            RuleError(
              code: .semantic, file: fileName, location: rule.definition.location,
              message: "a rule named '\(rule.name)' is already defined in another file; rule names must be unique",
              rule: rule.name))
        } else if compiled.count >= RuleLimits.maximumRules {
          errors.append(
            RuleError(
              code: .semantic, file: fileName, location: rule.definition.location,
              message: "the rule files hold more than \(RuleLimits.maximumRules) rules; this one is not loaded",
              rule: rule.name))
        } else {
          names.insert(rule.name)
          compiled.append(rule)
        }
      }
    }
    var report = RuleReloadReport()
    report.refused = errors
    let refusedNames = Set(errors.compactMap(\.rule))
    var next: [any RuleRuntimeProtocol] = []
    for rule in compiled {
      if let old = runtimes.first(where: { $0.compiled.name == rule.name }),
        old.compiled.definition.fingerprint == rule.definition.fingerprint
      {
        next.append(old)
        report.kept.append(rule.name)
      } else {
        next.append(RuleEngine.makeRuntime(rule))
        report.started.append(rule.name)
      }
    }
    for old in runtimes where !next.contains(where: { $0.compiled.name == old.compiled.name }) {
      if refusedNames.contains(old.compiled.name) {
        next.append(old)
        report.keptPrevious.append(old.compiled.name)
      } else {
        report.removed.append(old.compiled.name)
      }
    }
    runtimes = next
    for rule in compiled where topicIndex[rule.definition.topic] == nil { _ = topic(rule.definition.topic) }
    rebuildPlans()
    if !report.started.isEmpty || !report.removed.isEmpty { changeCount &+= 1 }
    return report
  }

  static func makeRuntime(_ rule: CompiledRule) -> any RuleRuntimeProtocol {
    switch rule.definition.window {
    case .tumbling(let size): RuleRuntime(compiled: rule, strategy: PanedWindows(size: size, advance: size))
    case .hopping(let size, let advance): RuleRuntime(compiled: rule, strategy: PanedWindows(size: size, advance: advance))
    case .sliding(let size): RuleRuntime(compiled: rule, strategy: SlidingWindows(size: size))
    case .session(let gap): RuleRuntime(compiled: rule, strategy: SessionWindows(gap: gap))
    case .count(let n): RuleRuntime(compiled: rule, strategy: CountWindows(size: n))
    }
  }
}
