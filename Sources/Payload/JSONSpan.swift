/// Where one JSON value sits in the bytes that were scanned: what kind it is and its byte range.
///
/// For a string the range is the text between the quotes, escapes not decoded (`escaped` says whether there are
/// any); for every other kind it is the value's own bytes (`-1.5e3`, `true`, `{"a":1}`).
public struct JSONSpan: Sendable, Equatable {
  public enum Kind: UInt8, Sendable { case string, number, bool, null, object, array }

  public var kind: Kind
  public var range: Range<Int>
  public var escaped: Bool

  public init(kind: Kind, range: Range<Int>, escaped: Bool = false) {
    self.kind = kind
    self.range = range
    self.escaped = escaped
  }
}

/// Why bytes are not the JSON that was asked for, and where the scan stopped: `expected ':' at byte 7`.
/// The message is static text, so reporting a problem allocates nothing until it is printed.
public struct JSONProblem: Error, Sendable, Equatable, CustomStringConvertible {
  public let message: StaticString
  public let offset: Int

  public init(_ message: StaticString, at offset: Int) {
    self.message = message
    self.offset = offset
  }

  public var description: String { "\(message) at byte \(offset)" }

  public static func == (a: JSONProblem, b: JSONProblem) -> Bool {
    a.offset == b.offset && a.message.description == b.message.description
  }
}

/// One step of a path into a JSON document: a member of an object or an element of an array (from 0).
public enum JSONPathComponent: Hashable, Sendable {
  case key(String)
  case index(Int)
}
