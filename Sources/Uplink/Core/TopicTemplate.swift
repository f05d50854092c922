/// Remote topic names from a template: `{gateway}` and `{topic}` are replaced, nothing else is.
public enum TopicTemplate {
  /// The remote name for local `topic`; throws for an unknown or unclosed placeholder.
  public static func render(_ template: String, gateway: String, topic: String) throws(UplinkError) -> String {
    var result = ""
    var rest = Substring(template)
    while let open = rest.firstIndex(of: "{") {
      result += rest[..<open]
      guard let close = rest[open...].firstIndex(of: "}") else {
        throw UplinkError(.configuration, "topic template '\(template)' has an unclosed '{'")
      }
      let name = rest[rest.index(after: open)..<close]
      switch name {
      case "gateway": result += gateway
      case "topic": result += topic
      default:
        throw UplinkError(
          .configuration, "topic template '\(template)' uses {\(name)}; the placeholders are {gateway} and {topic}")
      }
      rest = rest[rest.index(after: close)...]
    }
    return result + rest
  }
}
