import Foundation
import WeirTestSupport

/// The `weir` executable built beside this test bundle.
func weirExecutable() -> String { builtExecutable("weir") }

var weirIsBuilt: Bool { FileManager.default.isExecutableFile(atPath: weirExecutable()) }
