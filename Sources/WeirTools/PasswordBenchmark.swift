import Ingest
import Payload
import WeirCore

/// `weir bench passwords`: what the listener's password check costs on this CPU, to choose a
/// password file's iteration count. Times `count` wrong passwords (each a full PBKDF2 derivation,
/// as every device's first CONNECT and every failed one) and `count` repeats of the right one
/// (answered by the file's cache of successes with one SHA-256). Holds one password file line.
public enum PasswordBenchmark {
  public static func run(iterations: Int, count: Int) throws -> String {
    guard count > 0 else { throw BenchmarkError("--count must be at least 1") }
    let right = Array("correct horse battery staple".utf8)
    let wrong = Array("correct horse battery stapler".utf8)
    let line: String
    do throws(PasswordLineError) {
      line = try PasswordFile.line(user: "bench", password: right, iterations: iterations)
    } catch {
      throw BenchmarkError(error.message)
    }
    let (file, _) = PasswordFile.parse(line, file: "bench")
    var start = Monotonic.nanoseconds()
    for _ in 0..<count where file.verify(user: "bench", password: wrong) {
      throw BenchmarkError("a wrong password verified")
    }
    let derivations = Monotonic.nanoseconds() - start
    guard file.verify(user: "bench", password: right) else { throw BenchmarkError("the right password failed") }
    start = Monotonic.nanoseconds()
    for _ in 0..<count where !file.verify(user: "bench", password: right) {
      throw BenchmarkError("the right password failed")
    }
    let cached = Monotonic.nanoseconds() - start
    let json = JSONWriter.object()
    json.add("benchmark", "passwords")
    json.add("iterations", iterations)
    json.add("verifications", count)
    json.add("derivation_total_ms", Double(derivations) / 1e6)
    json.add("derivation_ms", Double(derivations) / 1e6 / Double(count))
    json.add("cached_us", Double(cached) / 1e3 / Double(count))
    return json.result
  }
}
