/// A centrifugal pump: discharge pressure (bar), flow (m³/h) and motor temperature (°C).
///
/// - Demand follows the shift profile and random changes (``LoadProcess``); flow is proportional.
/// - Pressure follows a pump curve: the head falls with the square of the flow (1.25·p₀ at no flow,
///   0.9·p₀ at full demand).
/// - Motor temperature is ambient plus a rise with demand through a 20-minute thermal lag.
///
/// Degradation: cavitation blends pressure toward its threshold (quadratically), widens the pressure
/// noise from 0.03 to ~0.4 bar and cuts flow by up to 35 %; overheating blends the motor temperature
/// toward its threshold.
struct PumpModel: Sendable {
  private var rng: Xoshiro256
  let nominalPressure: Double
  let nominalFlow: Double
  let temperatureRise: Double
  let ambientMean: Double
  let degradation: Degradation?
  private var demand: LoadProcess
  private var motorRise: FirstOrderLag
  private var lastMillis: Int64?

  init(seed: UInt64, degradation: Degradation?) {
    var rng = Xoshiro256(seed: seed)
    nominalPressure = rng.uniform(3, 6)
    nominalFlow = rng.uniform(20, 120)
    temperatureRise = rng.uniform(20, 32)
    ambientMean = rng.uniform(17, 23)
    demand = LoadProcess(
      nightLoad: rng.uniform(0.35, 0.5), dayLoad: rng.uniform(0.75, 0.95),
      meanChangeSeconds: rng.uniform(900, 2400), rng: &rng)
    motorRise = FirstOrderLag(value: 0, tauSeconds: 1200)
    self.degradation = degradation
    self.rng = rng
  }

  mutating func sample(at simMillis: Int64, clock: SimClock) -> SIMD4<Double> {
    let first = lastMillis == nil
    let seconds = lastMillis.map { Double(simMillis - $0) / 1000 } ?? 0
    lastMillis = simMillis
    let hour = clock.hourOfDay(simMillis)
    let d = demand.step(simMillis: simMillis, seconds: seconds, hour: hour, rng: &rng)
    let ambient = DailyCycle.ambientTemperature(hour: hour, mean: ambientMean, amplitude: 3)
    let riseTarget = temperatureRise * (0.4 + 0.6 * d)
    let rise = first ? set(&motorRise, riseTarget) : motorRise.step(toward: riseTarget, seconds: seconds)

    var pressure = nominalPressure * (1.25 - 0.35 * d * d)
    var flow = nominalFlow * d
    var temperature = ambient + rise
    var pressureNoise = 0.03

    if let degradation {
      let g = degradation.progress(at: simMillis)
      switch degradation.mode {
      case .cavitation:
        pressure = degradation.blend(healthy: pressure, at: simMillis)
        pressureNoise += 0.35 * min(g, 1.5)
        flow *= 1 - 0.35 * min(g, 1)
      case .overheating:
        temperature = degradation.blend(healthy: temperature, at: simMillis)
      case .bearingWear:
        break
      }
    }

    let noise = SIMD4(rng.gaussian(), rng.gaussian(), rng.gaussian(), 0)
    return SIMD4(
      quantise(max(pressure + pressureNoise * noise[0], 0.05), decimals: 2),
      quantise(max(flow * (1 + 0.01 * noise[1]), 0), decimals: 1),
      quantise(temperature + 0.15 * noise[2], decimals: 1),
      0)
  }
}
