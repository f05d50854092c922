import Foundation
import FuzzTargets
import Testing

/// Replays every kept fuzz input (`fuzz/corpus/NAME/` and the crashes found, `fuzz/crashes/NAME/`)
/// through its harness: a regression in any parser traps here, in `make test`.
@Suite struct CorpusReplayTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("fuzz")

  static func inputs(_ name: String) -> [URL] {
    ["corpus", "crashes"].flatMap { kind -> [URL] in
      let dir = root.appendingPathComponent(kind).appendingPathComponent(name)
      let files = (try? FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)) ?? []
      return files.filter { !$0.lastPathComponent.hasPrefix(".") }.sorted { $0.path < $1.path }
    }
  }

  @Test(arguments: FuzzTargets.all.map(\.name))
  func replay(_ name: String) throws {
    let harness = try #require(FuzzTargets.harness(named: name))
    let files = Self.inputs(name)
    #expect(!files.isEmpty, "fuzz/corpus/\(name) has no inputs")
    for file in files {
      let data = try Data(contentsOf: file)
      data.withUnsafeBytes { harness($0) }
    }
  }
}
