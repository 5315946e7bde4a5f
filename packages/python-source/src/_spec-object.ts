// From evaluated values to what a spec file holds (the mapping `specFromObject` normalizes), and to JSON.
import { PyFloat, PyTuple, pyFloatRepr } from '@imagespec/spec'
import { EnumMember, PyDict, type Ref, SpecValue, typeName, type Value } from './_values.js'

/** A field value as a spec file would hold it; PyTuple survives where flytekit's checks must see a tuple. */
export type SpecData =
  string | number | boolean | null | PyFloat | PyTuple | SpecData[] | { [k: string]: SpecData }

/** Thrown when a value cannot be written as spec data (a module, a function); the caller reports it. */
export class NotData extends Error {}

function data(v: Value, field: string): SpecData {
  if (
    v === null ||
    typeof v === 'string' ||
    typeof v === 'number' ||
    typeof v === 'boolean' ||
    v instanceof PyFloat
  )
    return v
  if (Array.isArray(v)) return v.map((x) => data(x, field))
  if (v instanceof PyTuple) return new PyTuple((v.items as Value[]).map((x) => data(x, field)))
  if (v instanceof PyDict)
    return Object.fromEntries([...v.entries].map(([k, x]) => [k, data(x, field)]))
  if (v instanceof SpecValue) return specObject(v)
  if (v instanceof EnumMember) return v.member
  throw new NotData(`${field} is a ${typeName(v as Ref)}, not a value`)
}

/**
 * The spec-file mapping of an ImageSpec value: its arguments in the order given, a nested base as a nested mapping.
 * `pip_secret_mounts` (a list of tuples in Python) becomes a list of pairs, as in a spec file; an inner list stays
 * non-pair data so that flytekit's "list of tuples" check still rejects it.
 */
export function specObject(spec: SpecValue): { [k: string]: SpecData } {
  const out: { [k: string]: SpecData } = {}
  for (const [k, v] of spec.args) {
    if (k === 'pip_secret_mounts' && Array.isArray(v))
      out[k] = v.map((m) =>
        m instanceof PyTuple
          ? (m.items as Value[]).map((x) => data(x, k))
          : new PyTuple([data(m, k) as never]),
      )
    else out[k] = data(v, k)
  }
  return out
}

/** JSON text of spec data: a Python float keeps its point (`3.0`), a tuple is a list; non-finite floats are null. */
export function toJson(v: unknown): string {
  if (v === undefined) return 'null'
  if (v instanceof PyFloat) return Number.isFinite(v.value) ? pyFloatRepr(v.value) : 'null'
  if (v instanceof PyTuple) return toJson(v.items)
  if (Array.isArray(v)) return `[${v.map(toJson).join(',')}]`
  if (v !== null && typeof v === 'object')
    return `{${Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .map(([k, x]) => `${JSON.stringify(k)}:${toJson(x)}`)
      .join(',')}}`
  return JSON.stringify(v)
}
