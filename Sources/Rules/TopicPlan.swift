import Payload

/// The rules reading one topic and the union of the payload fields they need, extracted once per record.
final class TopicPlan {
  let fields: JSONFields
  let slots: UnsafeMutableBufferPointer<Scalar>
  let runtimes: [any RuleRuntimeProtocol]
  /// The same runtimes with their concrete types, so the per-record call is specialised for its window strategy.
  let handles: [RuntimeHandle]
  /// The shortest idle timeout of the topic's rules, if any has one.
  let idleTimeout: Int64?

  init(runtimes: [any RuleRuntimeProtocol]) {
    var paths: [FieldPath] = []
    var index: [FieldPath: Int] = [:]
    for runtime in runtimes {
      var map: [Int] = []
      for path in runtime.compiled.paths {
        if let i = index[path] {
          map.append(i)
        } else {
          paths.append(path)
          index[path] = paths.count - 1
          map.append(paths.count - 1)
        }
      }
      runtime.bind(slotMap: map)
    }
    fields = TopicPlan.fields(paths)
    slots = .allocate(capacity: max(1, paths.count))
    slots.initialize(repeating: .null)
    self.runtimes = runtimes
    handles = runtimes.map(RuntimeHandle.init)
    idleTimeout = runtimes.compactMap(\.compiled.definition.options.idleTimeoutMilliseconds).min()
  }

  deinit { slots.deallocate() }

  /// Fills every slot with its field's value in `payload` (`.null` where it lacks it; an object or array where a
  /// rule reads a field is null too). False when the payload is malformed before every field was found.
  @inline(__always)
  func extract(_ payload: UnsafeRawBufferPointer) -> Bool { TopicPlan.extract(payload, fields, into: slots) }

  static func fields(_ paths: [FieldPath]) -> JSONFields {
    JSONFields(
      paths: paths.map { path in
        path.components.map { component -> JSONPathComponent in
          switch component {
          case .key(let name): .key(name)
          case .index(let index): .index(index)
          }
        }
      })
  }

  @inline(__always)
  static func extract(
    _ payload: UnsafeRawBufferPointer, _ fields: JSONFields, into slots: UnsafeMutableBufferPointer<Scalar>
  ) -> Bool {
    guard fields.find(payload) else { return false }
    guard fields.count > 0, let base = payload.baseAddress else { return true }
    let p = base.assumingMemoryBound(to: UInt8.self)
    for slot in 0..<fields.count {
      guard let span = fields[slot] else {
        slots[slot] = .null
        continue
      }
      switch span.kind {
      case .string:
        slots[slot] = .text(UnsafeRawPointer(p + span.range.lowerBound), span.range.count, escaped: span.escaped)
      case .number: slots[slot] = .number(JSONNumber.value(p + span.range.lowerBound, span.range.count))
      case .bool: slots[slot] = .bool(p[span.range.lowerBound] == UInt8(ascii: "t"))
      case .null, .object, .array: slots[slot] = .null
      }
    }
    return true
  }
}

/// A runtime with its window strategy known statically: calling through a generic class's protocol witness would
/// run the unspecialised generic code on every record.
enum RuntimeHandle {
  case paned(RuleRuntime<PanedWindows>)
  case sliding(RuleRuntime<SlidingWindows>)
  case session(RuleRuntime<SessionWindows>)
  case count(RuleRuntime<CountWindows>)

  init(_ runtime: any RuleRuntimeProtocol) {
    if let r = runtime as? RuleRuntime<PanedWindows> {
      self = .paned(r)
    } else if let r = runtime as? RuleRuntime<SlidingWindows> {
      self = .sliding(r)
    } else if let r = runtime as? RuleRuntime<SessionWindows> {
      self = .session(r)
    } else {
      self = .count(runtime as! RuleRuntime<CountWindows>)
    }
  }

  @inline(__always)
  func process(_ context: borrowing RecordContext, _ record: RecordInfo, now: Int64, into output: inout RuleOutput) {
    switch self {
    case .paned(let r): r.process(context, record, now: now, into: &output)
    case .sliding(let r): r.process(context, record, now: now, into: &output)
    case .session(let r): r.process(context, record, now: now, into: &output)
    case .count(let r): r.process(context, record, now: now, into: &output)
    }
  }
}
