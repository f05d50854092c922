import FuzzTargets

#if canImport(Glibc)
  import Glibc
#endif

// weir-fuzz NAME [libFuzzer options] CORPUS...  (built by scripts/fuzz with coverage and ASan)
// weir-fuzz NAME FILE...                        (an ordinary build: runs each file once)

#if FUZZING
  @_silgen_name("LLVMFuzzerRunDriver")
  func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
  ) -> Int32
#endif

func complain(_ text: String) {
  var text = text
  text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

nonisolated(unsafe) var selected: FuzzTargets.Harness = { _ in }

let arguments = CommandLine.arguments
// libFuzzer starts itself again for -merge and -jobs with the arguments it was given, which lack
// NAME: the name travels in the environment too.
let named = arguments.count >= 2 ? FuzzTargets.harness(named: arguments[1]) : nil
let inherited = getenv("WEIR_FUZZ_TARGET").flatMap { FuzzTargets.harness(named: String(cString: $0)) }
guard let harness = named ?? inherited else {
  let names = FuzzTargets.all.map(\.name).joined(separator: ", ")
  complain("usage: weir-fuzz NAME [libFuzzer options | files...]\nNAME: \(names)\n")
  exit(2)
}
selected = harness
if named != nil { setenv("WEIR_FUZZ_TARGET", arguments[1], 1) }
let skip = named != nil ? 1 : 0

#if FUZZING
  // libFuzzer sees argv without NAME.
  var argc = CommandLine.argc - Int32(skip)
  var argv = CommandLine.unsafeArgv
  if skip == 1 { argv[1] = argv[0] }
  var shifted = argv + skip
  exit(
    LLVMFuzzerRunDriver(&argc, &shifted) { data, size in
      selected(UnsafeRawBufferPointer(start: data, count: size))
      return 0
    })
#else
  for path in arguments.dropFirst(1 + skip) {
    guard let file = fopen(path, "rb") else {
      complain("weir-fuzz: cannot open \(path)\n")
      exit(1)
    }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = fread(&chunk, 1, chunk.count, file)
      if n <= 0 { break }
      bytes += chunk[0..<n]
    }
    fclose(file)
    bytes.withUnsafeBytes { selected($0) }
  }
#endif
