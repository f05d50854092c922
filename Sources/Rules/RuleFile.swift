/// Parses and checks rule files.
public enum RuleFile {
  /// Parses every rule in `source` and checks its meaning.
  ///
  /// Returns the rules that are valid and one located error for each rule that is not; a broken rule never hides
  /// the others. `fileName` is used only in error messages.
  public static func parse(_ source: String, fileName: String) -> (rules: [RuleDefinition], errors: [RuleError]) {
    let (rules, errors) = compile(source, fileName: fileName)
    return (rules.map(\.definition), errors)
  }

  static func compile(_ source: String, fileName: String) -> (rules: [CompiledRule], errors: [RuleError]) {
    let (definitions, parseErrors) = RuleParser.parse(source, file: fileName)
    var errors = parseErrors
    var compiled: [CompiledRule] = []
    var names: Set<String> = []
    for definition in definitions {
      guard !names.contains(definition.name) else {
        errors.append(
          RuleError(
            code: .semantic, file: fileName, location: definition.location,
            message: "a rule named '\(definition.name)' is already defined in this file; rule names must be unique",
            rule: definition.name))
        continue
      }
      do {
        compiled.append(try CompiledRule.compile(definition, file: fileName))
        names.insert(definition.name)
      } catch {
        errors.append(error)
      }
    }
    errors.sort { ($0.location.line, $0.location.column) < ($1.location.line, $1.location.column) }
    return (compiled, errors)
  }
}
