/// A rule turned into what the engine evaluates: record-level programs, accumulator layout, window-level programs.
final class CompiledRule {
  /// One aggregate function call of the rule.
  struct AggregateCall {
    var function: AggregateFunction
    var input: Int
    var parameter: Double
    var star: Bool
  }

  let definition: RuleDefinition
  /// The payload fields the rule reads; `.field(i)` in the record programs refers to `paths[i]`.
  let paths: [FieldPath]
  let filter: RecordExpression?
  let keys: [RecordExpression]
  let inputs: [RecordExpression]
  let layout: AccumulatorLayout
  let calls: [AggregateCall]
  let select: [WindowExpression]
  let aliases: [String]
  let having: WindowExpression?

  var name: String { definition.name }

  init(
    definition: RuleDefinition, paths: [FieldPath], filter: RecordExpression?, keys: [RecordExpression],
    inputs: [RecordExpression], layout: AccumulatorLayout, calls: [AggregateCall], select: [WindowExpression],
    aliases: [String], having: WindowExpression?
  ) {
    self.definition = definition
    self.paths = paths
    self.filter = filter
    self.keys = keys
    self.inputs = inputs
    self.layout = layout
    self.calls = calls
    self.select = select
    self.aliases = aliases
    self.having = having
  }

  /// Checks the rule's meaning and compiles it; errors carry the file, line and column of the offending part.
  static func compile(_ definition: RuleDefinition, file: String) throws(RuleError) -> CompiledRule {
    var compiler = RuleCompiler(definition: definition, file: file)
    return try compiler.compile()
  }
}
