// Python dicts as plain objects that remember the author's key order (and each key's Python type).
// A JS object lists integer-like keys first (`{"1": …, "b": …, "0": …}` iterates 0, 1, b); Python keeps insertion
// order, and flytekit's hash pre-image is `str(dict)`. The order rides along as a non-enumerable, registered symbol,
// so reading a value by key stays `obj[key]` and a copy of this package made elsewhere (a bundled CLI, a plugin)
// sees the same order.
import { pyFloatRepr } from './pyrepr.js'
import { PyFloat } from './types.js'

/** A mapping key as Python sees it: YAML `1:` is the int 1, `1.5:` a float, `true:` a bool, `null:`/`~:` None. */
export type DictKey = string | number | bigint | boolean | null | PyFloat

const ORDER: unique symbol = Symbol.for('@imagespec/spec:dict-order') as never

interface Ordered {
  [ORDER]?: readonly (readonly [string, DictKey])[]
}

/** The JS property name a key is stored under: Python's `str(key)` (`1` -> `"1"`, None -> `"None"`, 1e-05 -> `"1e-05"`). */
export function dictKeyName(key: DictKey): string {
  if (typeof key === 'string') return key
  if (key === null) return 'None'
  if (typeof key === 'boolean') return key ? 'True' : 'False'
  if (key instanceof PyFloat) return pyFloatRepr(key.value)
  if (typeof key === 'number' && !Number.isInteger(key)) return pyFloatRepr(key)
  return typeof key === 'number' ? BigInt(key).toString() : key.toString()
}

/**
 * A Python dict as a plain object: `pyDict([["1", "a"], ["b", "c"], ["0", "d"]])` iterates (through `dictEntries`)
 * and hashes as `{'1': 'a', 'b': 'c', '0': 'd'}`. A later duplicate key replaces the earlier value in place, as in Python.
 */
export function pyDict<V>(entries: Iterable<readonly [DictKey, V]>): Record<string, V> {
  const obj: Record<string, V> = {}
  const order: [string, DictKey][] = []
  for (const [key, value] of entries) {
    const name = dictKeyName(key)
    if (!Object.hasOwn(obj, name)) order.push([name, key])
    obj[name] = value
  }
  Object.defineProperty(obj, ORDER, { value: order, enumerable: false })
  return obj
}

/** Gives `target` the key order (and key types) of `source`, when `source` carries one. */
export function copyDictOrder(source: object, target: object): void {
  const order = (source as Ordered)[ORDER]
  if (order && !Object.hasOwn(target, ORDER))
    Object.defineProperty(target, ORDER, { value: order, enumerable: false })
}

/**
 * `[name, value, pythonKey]` in the author's order: the recorded order for the keys still present, then any key added
 * since in JS order. A plain object without a recorded order iterates in JS order with string keys.
 */
export function dictEntries<V>(obj: Readonly<Record<string, V>>): [string, V, DictKey][] {
  const order = (obj as Ordered)[ORDER]
  if (!order) return Object.entries(obj).map(([k, v]) => [k, v, k])
  const out: [string, V, DictKey][] = []
  const seen = new Set<string>()
  for (const [name, key] of order)
    if (Object.hasOwn(obj, name)) {
      out.push([name, obj[name], key])
      seen.add(name)
    }
  for (const [k, v] of Object.entries(obj)) if (!seen.has(k)) out.push([k, v, k])
  return out
}
