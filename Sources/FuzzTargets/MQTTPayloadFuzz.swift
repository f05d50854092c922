extension FuzzTargets {
  static func mqttPayload(_ data: UnsafeRawBufferPointer) {}  // placeholder: replaced by the real harness this session
}
