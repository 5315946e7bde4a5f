// Expressions of the static evaluator: literals, f-strings, operators, names, subscripts, os.environ and os.getenv.
import type { SyntaxNode } from '@lezer/common'
import { PyFloat, PyTuple, pyStr, pyRepr, type PyReprValue } from '@imagespec/spec'
import {
  NotEvaluable,
  PUNCT,
  SPEC_METHODS,
  describeNode,
  kids,
  oneLine,
  truthy,
  type Env,
} from './_eval-helpers.js'
import { decodeEscapes, splitStringToken } from './_strings.js'
import { EnumMember, PyDict, Ref, SpecValue, isData, typeName, type Value } from './_values.js'

/**
 * Evaluates expressions to values, or fails with {@link NotEvaluable}. What names, attributes and ImageSpec calls mean
 * is left to the subclass (the module evaluator, which knows imports and flytekit's API).
 */
export abstract class ExpressionEvaluator {
  /** Names changed in place anywhere in the module, with the offset of the first change. */
  protected readonly mutated = new Map<string, number>()

  constructor(
    protected readonly src: string,
    protected readonly environ: NodeJS.ProcessEnv,
  ) {}

  /** Attribute `name` of a module or known object, or undefined. */
  abstract member(of: Value, name: string): Value | undefined

  /** A call of `ImageSpec` (`callee.kind` 'imagespec') or of a spec's `with_*`/`force_push` method ('method'). */
  protected abstract specCall(
    n: SyntaxNode,
    callee: Ref,
    positional: Value[],
    keywords: Map<string, Value>,
    argsOf: (names: string[], min: number) => Value[],
  ): Value

  text(n: SyntaxNode): string {
    return this.src.slice(n.from, n.to)
  }

  fail(n: SyntaxNode, why: string): never {
    throw new NotEvaluable(n, why)
  }

  line(offset: number): number {
    let line = 1
    for (let i = this.src.indexOf('\n'); i >= 0 && i < offset; i = this.src.indexOf('\n', i + 1))
      line++
    return line
  }

  lookup(n: SyntaxNode, env: Env): Value {
    const name = this.text(n)
    const at = this.mutated.get(name)
    if (at !== undefined) this.fail(n, `${name} is changed in place (line ${this.line(at)})`)
    const b = env.get(name)
    if (!b) this.fail(n, `${name} is not defined by a module-level assignment or import`)
    if ('reason' in b) this.fail(n, b.reason)
    return b.value
  }

  eval(n: SyntaxNode, env: Env): Value {
    switch (n.name) {
      case 'ParenthesizedExpression': {
        const inner = kids(n).filter((c) => c.name !== '(' && c.name !== ')')
        if (inner.length !== 1) this.fail(n, 'a parenthesized expression')
        return this.eval(inner[0], env)
      }
      case 'String':
        return this.string(n)
      case 'FormatString':
        return this.fstring(n, env)
      case 'ContinuedString': {
        const parts = kids(n).map((c) =>
          c.name === 'FormatString' ? this.fstring(c, env) : this.string(c),
        )
        return parts.join('')
      }
      case 'Number':
        return this.number(n)
      case 'Boolean':
        return this.text(n) === 'True'
      case 'None':
        return null
      case 'VariableName':
        return this.lookup(n, env)
      case 'ArrayExpression':
        return this.items(n, env)
      case 'TupleExpression':
        return new PyTuple(this.items(n, env) as PyReprValue[])
      case 'DictionaryExpression':
        return this.dict(n, env)
      case 'UnaryExpression': {
        const [op, arg] = kids(n)
        const v = this.eval(arg, env)
        const sign = this.text(op)
        if (sign === '-' && typeof v === 'number' && typeof v !== 'boolean') return -v
        if (sign === '-' && v instanceof PyFloat) return new PyFloat(-v.value)
        if (sign === '+' && (typeof v === 'number' || v instanceof PyFloat)) return v
        return this.fail(n, `\`${sign}\` on a ${typeName(v)} is not evaluated`)
      }
      case 'BinaryExpression': {
        const [a, op, b] = kids(n)
        if (this.text(op) === 'or' || this.text(op) === 'and') {
          const left = this.eval(a, env)
          return truthy(left) === (this.text(op) === 'or') ? left : this.eval(b, env)
        }
        if (this.text(op) !== '+')
          this.fail(n, `the operator \`${this.text(op)}\` is not evaluated`)
        return this.add(n, this.eval(a, env), this.eval(b, env))
      }
      case 'MemberExpression':
        return this.memberExpression(n, env)
      case 'CallExpression':
        return this.call(n, env)
      case 'ConditionalExpression':
        return this.fail(n, 'a conditional expression')
      default:
        return this.fail(n, `${describeNode(n.name)} is not evaluated`)
    }
  }

  add(n: SyntaxNode, a: Value, b: Value): Value {
    if (typeof a === 'string' && typeof b === 'string') return a + b
    if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b]
    if (a instanceof PyTuple && b instanceof PyTuple) return new PyTuple([...a.items, ...b.items])
    if (
      typeof a === 'number' &&
      typeof b === 'number' &&
      typeof a !== 'boolean' &&
      typeof b !== 'boolean'
    )
      return a + b
    return this.fail(n, `${typeName(a)} + ${typeName(b)} is not evaluated`)
  }

  string(n: SyntaxNode): string {
    const { prefix, body } = splitStringToken(this.text(n))
    if (prefix.includes('b')) this.fail(n, 'a bytes literal')
    if (prefix.includes('r')) return body
    const s = decodeEscapes(body)
    if (s === undefined) this.fail(n, 'an escape that is not evaluated (\\N{...})')
    return s
  }

  fstring(n: SyntaxNode, env: Env): string {
    const raw = this.text(n)
    const { prefix } = splitStringToken(raw)
    const open = raw.match(/^[A-Za-z]*('''|"""|'|")/)![0].length
    const close = raw.length - (raw.match(/('''|"""|'|")$/)?.[0].length ?? 0)
    const literal = (from: number, to: number) => {
      const piece = this.src.slice(from, to).replace(/\{\{/g, '{').replace(/\}\}/g, '}')
      if (prefix.includes('r')) return piece
      const s = decodeEscapes(piece)
      if (s === undefined) this.fail(n, 'an escape that is not evaluated (\\N{...})')
      return s
    }
    let out = ''
    let pos = n.from + open
    for (const r of n.getChildren('FormatReplacement')) {
      out += literal(pos, r.from)
      const parts = kids(r).filter((c) => c.name !== '{' && c.name !== '}')
      const expr = parts.filter(
        (c) => !['FormatConversion', 'FormatSpec', 'FormatSelfDoc'].includes(c.name),
      )
      if (parts.some((c) => c.name === 'FormatSelfDoc'))
        this.fail(r, 'a self-documenting f-string field (`=`)')
      if (parts.some((c) => c.name === 'FormatSpec')) this.fail(r, 'an f-string format spec')
      if (expr.length !== 1) this.fail(r, 'an f-string field')
      const v = this.eval(expr[0], env)
      if (!isData(v) || v instanceof SpecValue) this.fail(expr[0], `${typeName(v)} in an f-string`)
      const conversion = parts.find((c) => c.name === 'FormatConversion')
      const conv = conversion ? this.text(conversion).slice(1) : 's'
      if (conv === 'a') this.fail(r, 'the !a conversion')
      const data = (
        v instanceof EnumMember ? this.fail(expr[0], 'an enum in an f-string') : v
      ) as PyReprValue
      out += conv === 'r' ? pyRepr(data) : pyStr(data)
      pos = r.to
    }
    return out + literal(pos, n.from + close)
  }

  number(n: SyntaxNode): number | PyFloat {
    const t = this.text(n).replace(/_/g, '')
    if (/[jJ]$/.test(t)) this.fail(n, 'a complex number')
    if (/^0[xX]/.test(t)) return this.int(n, parseInt(t.slice(2), 16))
    if (/^0[oO]/.test(t)) return this.int(n, parseInt(t.slice(2), 8))
    if (/^0[bB]/.test(t)) return this.int(n, parseInt(t.slice(2), 2))
    if (/^\d+$/.test(t)) return this.int(n, Number(t))
    return new PyFloat(Number(t))
  }

  int(n: SyntaxNode, v: number): number {
    if (!Number.isSafeInteger(v)) this.fail(n, 'an integer beyond 2**53')
    return v
  }

  items(n: SyntaxNode, env: Env): Value[] {
    const out: Value[] = []
    const parts = kids(n).filter((c) => !PUNCT.has(c.name))
    for (let i = 0; i < parts.length; i++) {
      if (parts[i].name === '*') {
        const v = this.eval(parts[++i], env)
        if (Array.isArray(v)) out.push(...v)
        else if (v instanceof PyTuple) out.push(...(v.items as Value[]))
        else this.fail(parts[i], `*${typeName(v)} is not evaluated`)
      } else out.push(this.eval(parts[i], env))
    }
    return out
  }

  dict(n: SyntaxNode, env: Env): PyDict {
    const entries = new Map<string, Value>()
    const parts = kids(n).filter((c) => !['{', '}', ','].includes(c.name))
    for (let i = 0; i < parts.length; i++) {
      if (parts[i].name === '**') {
        const v = this.eval(parts[++i], env)
        if (!(v instanceof PyDict)) this.fail(parts[i], `**${typeName(v)} is not evaluated`)
        for (const [k, x] of v.entries) entries.set(k, x)
        continue
      }
      const key = this.eval(parts[i], env)
      if (parts[i + 1]?.name !== ':') this.fail(n, 'a set or a dict comprehension')
      if (typeof key !== 'string') this.fail(parts[i], `a ${typeName(key)} key`)
      const value = this.eval(parts[i + 2], env)
      entries.set(key, value) // a repeated key keeps its first position and takes the last value, as in Python
      i += 2
    }
    return new PyDict(entries)
  }

  memberExpression(n: SyntaxNode, env: Env): Value {
    const parts = kids(n)
    const of = this.eval(parts[0], env)
    if (parts[1]?.name === '.') {
      const name = this.text(parts[2])
      const m = this.member(of, name)
      if (m === undefined && of instanceof Ref && of.kind === 'imagespec')
        this.fail(
          n,
          `ImageSpec.${name} is not evaluated${name === 'from_env' ? ' (it reads the running Python environment)' : ''}`,
        )
      if (m === undefined)
        this.fail(n, `the attribute ${name} of a ${typeName(of)} is not evaluated`)
      return m
    }
    // subscript
    const inner = parts.slice(2, -1)
    if (inner.length !== 1) this.fail(n, 'a slice')
    const key = this.eval(inner[0], env)
    if (of instanceof Ref && of.kind === 'environ') {
      if (typeof key !== 'string') this.fail(inner[0], 'os.environ needs a str key')
      const v = this.environ[key]
      if (v === undefined) this.fail(n, `os.environ[${pyRepr(key)}] is not set (KeyError)`)
      return v
    }
    if (of instanceof PyDict && typeof key === 'string') {
      if (!of.entries.has(key)) this.fail(n, `KeyError: ${pyRepr(key)}`)
      return of.entries.get(key)!
    }
    const seq = Array.isArray(of)
      ? of
      : of instanceof PyTuple
        ? (of.items as Value[])
        : typeof of === 'string'
          ? [...of]
          : undefined
    if (seq && typeof key === 'number' && typeof key !== 'boolean') {
      const i = key < 0 ? seq.length + key : key
      if (i < 0 || i >= seq.length) this.fail(n, 'IndexError')
      return seq[i]
    }
    return this.fail(n, `a subscript of a ${typeName(of)}`)
  }

  call(n: SyntaxNode, env: Env): Value {
    const [calleeNode, argList] = kids(n)
    let callee: Value
    try {
      callee = this.eval(calleeNode, env)
    } catch (e) {
      // `base.with_packages(...)` on an unknown `base` says why `base` is unknown; any other call is just a call
      const method =
        calleeNode.name === 'MemberExpression' && SPEC_METHODS.has(this.text(calleeNode.lastChild!))
      if (method || !(e instanceof NotEvaluable)) throw e
      return this.fail(n, `a call of ${oneLine(this.text(calleeNode))}()`)
    }
    if (
      !(callee instanceof Ref) ||
      callee.kind === 'module' ||
      callee.kind === 'environ' ||
      callee.kind === 'copymode'
    )
      this.fail(n, `a call of ${oneLine(this.text(calleeNode))}()`)
    const { positional, keywords } = this.args(argList, env)
    const argsOf = (names: string[], min: number): Value[] => {
      if (positional.length > names.length)
        this.fail(n, `${callee.name}() takes at most ${names.length} arguments`)
      const out = [...positional]
      for (const [k, v] of keywords) {
        const i = names.indexOf(k)
        if (i < 0 || i < positional.length)
          this.fail(n, `${callee.name}() got an unexpected keyword argument '${k}'`)
        out[i] = v
      }
      for (let i = 0; i < min; i++)
        if (out[i] === undefined) this.fail(n, `${callee.name}() is missing an argument`)
      return out
    }
    switch (callee.kind) {
      case 'getenv':
      case 'environ.get': {
        const [key, dflt = null] = argsOf(
          callee.kind === 'getenv' ? ['key', 'default'] : ['key', 'default'],
          1,
        )
        if (typeof key !== 'string') this.fail(n, `${callee.name}() needs a str key`)
        return this.environ[key] ?? dflt
      }
      case 'imagespec':
      case 'method':
        return this.specCall(n, callee, positional, keywords, argsOf)
    }
    return this.fail(n, `a call of ${oneLine(this.text(calleeNode))}()`)
  }

  args(argList: SyntaxNode, env: Env): { positional: Value[]; keywords: Map<string, Value> } {
    const positional: Value[] = []
    const keywords = new Map<string, Value>()
    const parts = kids(argList).filter((c) => !['(', ')', ','].includes(c.name))
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]
      if (p.name === '*' || p.name === '**') {
        const v = this.eval(parts[++i], env)
        if (p.name === '*') {
          if (Array.isArray(v)) positional.push(...v)
          else if (v instanceof PyTuple) positional.push(...(v.items as Value[]))
          else this.fail(parts[i], `*${typeName(v)} is not evaluated`)
        } else {
          if (!(v instanceof PyDict)) this.fail(parts[i], `**${typeName(v)} is not evaluated`)
          for (const [k, x] of v.entries) {
            if (keywords.has(k))
              this.fail(parts[i], `got multiple values for keyword argument '${k}'`)
            keywords.set(k, x)
          }
        }
      } else if (p.name === 'VariableName' && parts[i + 1]?.name === 'AssignOp') {
        const k = this.text(p)
        if (keywords.has(k)) this.fail(p, `keyword argument repeated: ${k}`)
        keywords.set(k, this.eval(parts[i + 2], env))
        i += 2
      } else if (/Comprehension/.test(p.name) || p.name === 'for')
        this.fail(p, 'a generator expression')
      else positional.push(this.eval(p, env))
    }
    return { positional, keywords }
  }
}
