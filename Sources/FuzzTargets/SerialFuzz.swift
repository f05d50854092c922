extension FuzzTargets {
  static func nmeaLines(_ data: UnsafeRawBufferPointer) {}  // placeholder: replaced by the real harness this session
  static func csvLines(_ data: UnsafeRawBufferPointer) {}  // placeholder: replaced by the real harness this session
  static func jsonLines(_ data: UnsafeRawBufferPointer) {}  // placeholder: replaced by the real harness this session
  static func modbusFrames(_ data: UnsafeRawBufferPointer) {}  // placeholder: replaced by the real harness this session
}
