/// A named set of partitions sharing one configuration.
public final class Topic: Sendable {
  public let name: String
  public let config: TopicConfig
  public let partitions: [Partition]

  init(name: String, config: TopicConfig, partitions: [Partition]) {
    self.name = name
    self.config = config
    self.partitions = partitions
  }

  public func partition(_ id: Int32) -> Partition? {
    id >= 0 && Int(id) < partitions.count ? partitions[Int(id)] : nil
  }

  /// Topic names as Kafka allows them: 1-249 of `[A-Za-z0-9._-]`, not `.` or `..`; the local
  /// log's topics and the uplink's remote Kafka topics follow the same rule.
  public static func nameProblem(_ name: String) -> String? {
    if name.isEmpty || name.utf8.count > 249 { return "topic name '\(name.prefix(80))' must be 1-249 characters" }
    if name == "." || name == ".." { return "topic name cannot be '.' or '..'" }
    for c in name.utf8 {
      let ok =
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x2e || c == 0x5f
        || c == 0x2d
      if !ok { return "topic name '\(name)' may contain only letters, digits, '.', '_' and '-'" }
    }
    return nil
  }
}
