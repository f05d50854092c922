/// A path into a JSON payload: `vibration`, `motor.bearing.temp`, `axes[0]`.
public struct FieldPath: Hashable, Sendable, CustomStringConvertible {
  /// One step of a path.
  public enum Component: Hashable, Sendable {
    /// A member of an object.
    case key(String)
    /// An element of an array, counted from 0.
    case index(Int)
  }

  /// The steps, outermost first.
  public var components: [Component]

  /// Creates a path from its steps.
  public init(_ components: [Component]) {
    self.components = components
  }

  public var description: String {
    var text = ""
    for component in components {
      switch component {
      case .key(let name):
        let plain = name.utf8.allSatisfy(Lexer.isIdentifierPart) && name.utf8.first.map(Lexer.isIdentifierStart) == true
          && !Token.reserved.contains(name.uppercased())
        let shown = plain ? name : "\"\(name)\""
        text += text.isEmpty ? shown : ".\(shown)"
      case .index(let i): text += "[\(i)]"
      }
    }
    return text
  }
}
