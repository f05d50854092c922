/// An induction motor driving a machine: vibration RMS (mm/s), bearing temperature (°C), phase
/// current (A) and shaft speed (rpm).
///
/// - Load follows the shift profile and random load changes (``LoadProcess``).
/// - Current rises linearly with load from the magnetising current (~32 % of rated).
/// - Speed is the synchronous speed minus a slip of up to 2 % at full load.
/// - Bearing temperature is ambient (daily cycle) plus a rise that follows load² through a 15-minute
///   thermal time constant.
/// - Vibration grows mildly with load; its noise is multiplicative (4 %), as RMS readings are.
///
/// Degradation: bearing wear blends vibration toward its threshold (exponential, see
/// ``Degradation``) and heats the bearing by up to 30 °C through a 5-minute lag; overheating blends
/// the temperature toward its threshold and draws up to 5 % more current.
struct MotorModel: Sendable {
  private var rng: Xoshiro256
  let synchronousRPM: Double
  let ratedCurrent: Double
  let baseVibration: Double
  let temperatureRise: Double
  let ambientMean: Double
  let degradation: Degradation?
  private var load: LoadProcess
  private var bearingRise: FirstOrderLag
  private var wearHeat: FirstOrderLag
  private var lastMillis: Int64?

  init(seed: UInt64, degradation: Degradation?) {
    var rng = Xoshiro256(seed: seed)
    synchronousRPM = rng.chance(0.6) ? 1500 : 3000
    ratedCurrent = rng.uniform(8, 30)
    baseVibration = rng.uniform(1.2, 2.4)
    temperatureRise = rng.uniform(22, 34)
    ambientMean = rng.uniform(19, 24)
    load = LoadProcess(
      nightLoad: rng.uniform(0.3, 0.5), dayLoad: rng.uniform(0.7, 0.95),
      meanChangeSeconds: rng.uniform(600, 1800), rng: &rng)
    bearingRise = FirstOrderLag(value: 0, tauSeconds: 900)
    wearHeat = FirstOrderLag(value: 0, tauSeconds: 300)
    self.degradation = degradation
    self.rng = rng
  }

  mutating func sample(at simMillis: Int64, clock: SimClock) -> SIMD4<Double> {
    let first = lastMillis == nil
    let seconds = lastMillis.map { Double(simMillis - $0) / 1000 } ?? 0
    lastMillis = simMillis
    let hour = clock.hourOfDay(simMillis)
    let l = load.step(simMillis: simMillis, seconds: seconds, hour: hour, rng: &rng)
    let ambient = DailyCycle.ambientTemperature(hour: hour, mean: ambientMean, amplitude: 4)
    let riseTarget = temperatureRise * (0.35 + 0.65 * l * l)
    let rise = first ? set(&bearingRise, riseTarget) : bearingRise.step(toward: riseTarget, seconds: seconds)

    var vibration = baseVibration * (0.75 + 0.45 * l)
    var temperature = ambient + rise
    var current = ratedCurrent * (0.32 + 0.68 * l)
    let rpm = synchronousRPM * (1 - 0.02 * l)

    if let degradation {
      let g = degradation.progress(at: simMillis)
      switch degradation.mode {
      case .bearingWear:
        vibration = degradation.blend(healthy: vibration, at: simMillis)
        temperature += wearHeat.step(toward: 30 * min(g, 1.5), seconds: seconds)
        current *= 1 + 0.03 * min(g, 1)
      case .overheating:
        temperature = degradation.blend(healthy: temperature, at: simMillis)
        current *= 1 + 0.05 * min(g, 1)
      case .cavitation:
        break
      }
    }

    let noise = SIMD4(rng.gaussian(), rng.gaussian(), rng.gaussian(), rng.gaussian())
    return SIMD4(
      quantise(max(vibration * (1 + 0.04 * noise[0]), 0), decimals: 2),
      quantise(temperature + 0.15 * noise[1], decimals: 1),
      quantise(max(current * (1 + 0.01 * noise[2]), 0), decimals: 2),
      quantise(rpm + 1.5 * noise[3], decimals: 0))
  }
}

/// Set a lag's state to its target (the first sample starts in equilibrium) and return it.
func set(_ lag: inout FirstOrderLag, _ value: Double) -> Double {
  lag.value = value
  return value
}
