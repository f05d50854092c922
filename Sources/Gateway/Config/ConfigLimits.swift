/// The bounds a configuration file is read within, so no file can make `weir config check` or
/// `weir run` slow, large or crash: a file past one is refused with a message naming it.
public enum ConfigLimits {
  /// The largest configuration file: 1 MiB (a full edge box's file is a few KiB).
  public static let fileBytes = 1 << 20
  /// The most YAML nodes (keys, values, list entries), counted after expanding aliases: a
  /// "billion laughs" file is refused by this count before any tree is built. A Modbus map of
  /// 4000 registers needs 45000; a file this size is read in a quarter of a second.
  public static let nodes = 50_000
  /// The deepest nesting of mappings and lists, aliases included (weir.yaml needs 6).
  public static let depth = 64
  /// The largest rule file named in `rules.files`: 1 MiB.
  public static let ruleFileBytes = 1 << 20
  /// The most rule files in `rules.files`.
  public static let ruleFiles = 1000
}
