/// Why a fleet run could not start.
public enum FleetRunError: Error, CustomStringConvertible {
  case cannotConnect(BrokerURL, seconds: Double)

  public var description: String {
    switch self {
    case .cannotConnect(let broker, let seconds):
      "no connection to \(broker) came up within \(Format.oneDecimal(seconds)) s; is the broker running?"
    }
  }
}
