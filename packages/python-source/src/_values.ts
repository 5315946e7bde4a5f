// The values the evaluator knows: Python literals, the ImageSpec constructions, and the few names it resolves.
import { PyFloat, PyTuple } from '@imagespec/spec'

/** A Python dict with string keys, in insertion order. */
export class PyDict {
  constructor(readonly entries: Map<string, Value>) {}
}

/** An `ImageSpec(...)` value: the constructor arguments (after any `with_*`) in the order they were given. */
export class SpecValue {
  constructor(
    readonly args: ReadonlyMap<string, Value>,
    /** `force_push()` was the last call (a later `with_*` drops it, as in flytekit). */
    readonly forcePush: boolean,
  ) {}
}

/** An enum member such as `CopyFileDetection.ALL`. */
export class EnumMember {
  constructor(
    readonly className: string,
    readonly member: string,
  ) {}
}

/** Something a name can refer to besides data: a module, `os.environ`, a class or function the evaluator knows. */
export class Ref {
  constructor(
    readonly kind:
      'module' | 'environ' | 'imagespec' | 'copymode' | 'getenv' | 'environ.get' | 'method',
    readonly name: string,
    readonly self?: SpecValue,
  ) {}
}

export type Value =
  | string
  | number
  | boolean
  | null
  | PyFloat
  | PyTuple
  | PyDict
  | SpecValue
  | EnumMember
  | Ref
  | Value[]

/** A value that is not JSON-shaped data in a spec (a module, a function). */
export const isData = (v: Value): boolean =>
  !(v instanceof Ref) &&
  (!Array.isArray(v) || v.every(isData)) &&
  (!(v instanceof PyTuple) || (v.items as Value[]).every(isData))

/** Python's `type(v).__name__`, for messages. */
export function typeName(v: Value): string {
  if (v === null) return 'NoneType'
  if (typeof v === 'string') return 'str'
  if (typeof v === 'boolean') return 'bool'
  if (typeof v === 'number') return 'int'
  if (v instanceof PyFloat) return 'float'
  if (Array.isArray(v)) return 'list'
  if (v instanceof PyTuple) return 'tuple'
  if (v instanceof PyDict) return 'dict'
  if (v instanceof SpecValue) return 'ImageSpec'
  if (v instanceof EnumMember) return v.className
  return v.kind === 'module' ? 'module' : 'function'
}
