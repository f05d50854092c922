import Testing
@testable import FirmwareSim

struct RandomTests {
  @Test func splitMix64MatchesReferenceOutputs() {
    // Reference: Vigna's splitmix64.c with state 0.
    var generator = SplitMix64(seed: 0)
    #expect(generator.next() == 0xE220_A839_7B1D_CDAF)
    #expect(generator.next() == 0x6E78_9E6A_A1B9_65F4)
    #expect(generator.next() == 0x06C4_5D18_8009_454F)
  }

  @Test func xoshiroSeededThroughSplitMixMatchesReference() {
    // Reference: xoshiro256starstar.c, state filled by splitmix64 from 42.
    var generator = Xoshiro256(seed: 42)
    #expect(generator.next() == 0x1578_0B2E_0C2E_C716)
    #expect(generator.next() == 0x6104_D986_6D11_3A7E)
    #expect(generator.next() == 0xAE17_5332_39E4_99A1)
  }

  @Test func gaussianHasUnitVarianceAndZeroMean() {
    var generator = Xoshiro256(seed: 7)
    let count = 200_000
    var sum = 0.0
    var squares = 0.0
    for _ in 0..<count {
      let value = generator.gaussian()
      sum += value
      squares += value * value
    }
    let mean = sum / Double(count)
    let variance = squares / Double(count) - mean * mean
    #expect(abs(mean) < 0.01)
    #expect(abs(variance - 1) < 0.02)
  }

  @Test func derivedStreamsDifferPerComponent() {
    let base = SplitMix64.derive(1, 2, 3)
    #expect(base == SplitMix64.derive(1, 2, 3))
    #expect(base != SplitMix64.derive(1, 2, 4))
    #expect(base != SplitMix64.derive(1, 3, 3))
    #expect(base != SplitMix64.derive(2, 2, 3))
  }
}
