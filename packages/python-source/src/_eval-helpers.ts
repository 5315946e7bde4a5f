// Shared pieces of the static evaluator: its bindings, its failure, syntax-tree and message helpers.
import type { SyntaxNode } from '@lezer/common'
import { PyFloat, PyTuple } from '@imagespec/spec'
import { PyDict, type Value } from './_values.js'

/** flytekit's `with_*` builder methods and the fields they change (`_update_attribute`). */
export const WITH_METHODS: Record<string, string> = {
  with_commands: 'commands',
  with_copy: 'copy',
  with_packages: 'packages',
  with_apt_packages: 'apt_packages',
  with_runtime_packages: 'runtime_packages',
  with_builder_options: 'builder_options',
}
export const SPEC_METHODS = new Set([...Object.keys(WITH_METHODS), 'force_push'])

/** Why an expression has no static value; `node` is the innermost expression at fault. */
export class NotEvaluable extends Error {
  constructor(
    readonly node: SyntaxNode,
    readonly why: string,
  ) {
    super(why)
  }
}

/** What a module-level name holds: a value, or why it has none. */
export type Binding = { value: Value } | { reason: string }
export type Env = Map<string, Binding>

/** A module of the project, evaluated: its names after it ran. */
export interface ImportedModule {
  /** A key naming it for later imports (`file:<path>`). */
  key: string
  globals: ReadonlyMap<string, Binding>
}

export const kids = (n: SyntaxNode): SyntaxNode[] => {
  const out: SyntaxNode[] = []
  for (let c = n.firstChild; c; c = c.nextSibling) if (c.name !== 'Comment') out.push(c)
  return out
}
export const PUNCT = new Set(['(', ')', '[', ']', '{', '}', ',', ':', '.', 'AssignOp'])

/** Python's truth value of data. */
export function truthy(v: Value): boolean {
  if (v === null || v === false || v === 0 || v === '') return false
  if (v instanceof PyFloat) return v.value !== 0
  if (Array.isArray(v)) return v.length > 0
  if (v instanceof PyTuple) return v.items.length > 0
  if (v instanceof PyDict) return v.entries.size > 0
  return true
}

const NODE_WORDS: Record<string, string> = {
  SetExpression: 'a set',
  LambdaExpression: 'a lambda',
  AwaitExpression: 'an await',
  CompareOp: 'a comparison',
  ArrayComprehensionExpression: 'a list comprehension',
  DictionaryComprehensionExpression: 'a dict comprehension',
  SetComprehensionExpression: 'a set comprehension',
  ComprehensionExpression: 'a generator expression',
  NamedExpression: 'an assignment expression (:=)',
  Ellipsis: '...',
}
export function describeNode(name: string): string {
  return NODE_WORDS[name] ?? name.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase()
}

export const oneLine = (s: string, max = 80): string => {
  const t = s.replace(/\s*\n\s*/g, ' ').trim()
  return t.length > max ? `${t.slice(0, max - 1)}…` : t
}
