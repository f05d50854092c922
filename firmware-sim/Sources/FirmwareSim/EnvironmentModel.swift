import Foundation

/// A room climate sensor: temperature (°C) and relative humidity (%).
///
/// Temperature is a daily sinusoid plus a slow weather drift (an Ornstein–Uhlenbeck process with a
/// two-hour time constant); humidity moves against temperature (warmer air, lower relative
/// humidity) around the sensor's own mean.
struct EnvironmentModel: Sendable {
  private var rng: Xoshiro256
  let temperatureMean: Double
  let temperatureAmplitude: Double
  let humidityMean: Double
  private var drift: Double
  private var lastMillis: Int64?

  init(seed: UInt64) {
    var rng = Xoshiro256(seed: seed)
    temperatureMean = rng.uniform(18, 24)
    temperatureAmplitude = rng.uniform(2, 5)
    humidityMean = rng.uniform(40, 60)
    drift = rng.gaussian(mean: 0, deviation: 0.5)
    self.rng = rng
  }

  mutating func sample(at simMillis: Int64, clock: SimClock) -> SIMD4<Double> {
    let seconds = lastMillis.map { Double(simMillis - $0) / 1000 } ?? 0
    lastMillis = simMillis
    let tau = 7200.0
    let decay = exp(-seconds / tau)
    // Stationary deviation of the drift: 0.8 °C.
    drift = drift * decay + 0.8 * (1 - decay * decay).squareRoot() * rng.gaussian()
    let hour = clock.hourOfDay(simMillis)
    let temperature = DailyCycle.ambientTemperature(
      hour: hour, mean: temperatureMean, amplitude: temperatureAmplitude) + drift
    let humidity = humidityMean - 2.2 * (temperature - temperatureMean)
    let noise = SIMD2(rng.gaussian(), rng.gaussian())
    return SIMD4(
      quantise(temperature + 0.1 * noise[0], decimals: 1),
      quantise(min(max(humidity + 0.8 * noise[1], 3), 99), decimals: 1),
      0, 0)
  }
}
