/// A device's signal model, one case per ``DeviceKind``. An enum rather than a protocol existential:
/// models are small value types, copied and stepped in place.
enum DeviceModel: Sendable {
  case motor(MotorModel)
  case pump(PumpModel)
  case env(EnvironmentModel)

  init(kind: DeviceKind, seed: UInt64, degradation: Degradation?) {
    switch kind {
    case .motor: self = .motor(MotorModel(seed: seed, degradation: degradation))
    case .pump: self = .pump(PumpModel(seed: seed, degradation: degradation))
    case .env: self = .env(EnvironmentModel(seed: seed))
    }
  }

  /// Step the model to `simMillis` and return its quantised values.
  mutating func sample(at simMillis: Int64, clock: SimClock) -> Reading {
    let values: SIMD4<Double>
    switch self {
    case .motor(var model):
      values = model.sample(at: simMillis, clock: clock)
      self = .motor(model)
    case .pump(var model):
      values = model.sample(at: simMillis, clock: clock)
      self = .pump(model)
    case .env(var model):
      values = model.sample(at: simMillis, clock: clock)
      self = .env(model)
    }
    return Reading(simMillis: simMillis, values: values)
  }
}
