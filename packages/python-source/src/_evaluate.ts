// The static evaluator: finds the ImageSpec constructions of one Python module and evaluates them without Python.
import type { SyntaxNode, Tree } from '@lezer/common'
import { IMAGE_SPEC_FIELDS, PyFloat, PyTuple, pyStr, pyRepr, type PyReprValue } from '@imagespec/spec'
import { decodeEscapes, splitStringToken } from './_strings.js'
import { EnumMember, PyDict, Ref, SpecValue, isData, typeName, type Value } from './_values.js'

/** flytekit's `with_*` builder methods and the fields they change (`_update_attribute`). */
const WITH_METHODS: Record<string, string> = {
  with_commands: 'commands',
  with_copy: 'copy',
  with_packages: 'packages',
  with_apt_packages: 'apt_packages',
  with_runtime_packages: 'runtime_packages',
  with_builder_options: 'builder_options',
}
const SPEC_METHODS = new Set([...Object.keys(WITH_METHODS), 'force_push'])

/** Modules that export `ImageSpec` and `CopyFileDetection`. */
const IMAGESPEC_MODULES = new Set(['flytekit', 'flytekit.image_spec', 'flytekit.image_spec.image_spec'])
const COPYMODE_MODULES = new Set(['flytekit', 'flytekit.constants', 'flytekit.tools.ignore'])
const COPY_MODES = new Set(['LOADED_MODULES', 'ALL', 'NO_COPY'])
/** Methods that change a list or dict in place: a name they are called on is no constant. */
const MUTATORS = new Set(['append', 'extend', 'insert', 'update', 'pop', 'popitem', 'remove', 'clear', 'setdefault', 'sort', 'reverse'])

/** Why an expression has no static value; `node` is the innermost expression at fault. */
class NotEvaluable extends Error {
  constructor(
    readonly node: SyntaxNode,
    readonly why: string,
  ) {
    super(why)
  }
}

/** What a module-level name holds: a value, or why it has none. */
type Binding = { value: Value } | { reason: string }
type Env = Map<string, Binding>

/** A module of the project, evaluated: its names after it ran. */
interface ImportedModule {
  /** A key naming it for later imports (`file:<path>`). */
  key: string
  globals: ReadonlyMap<string, Binding>
}

/**
 * Resolves an import of the module being evaluated (`pkg.mod`, `.mod`, `..`, or a key `file:<path>`): the evaluated
 * module, a reason it cannot be used (a circular import), or undefined when it is not a module of the project.
 */
export type Importer = (module: string) => ImportedModule | string | undefined

/** One spec expression found in a module: its value, or why it has none. */
interface FoundSpec {
  /** Offset of the expression in the source. */
  from: number
  /** The variable a module-level (or block-level) assignment binds it to. */
  variable?: string
  value?: SpecValue
  /** Why it is not evaluable (with the offending expression's offset). */
  failure?: { why: string; from: number; to: number }
}

/** The result of evaluating one module. */
export interface ModuleScan {
  specs: FoundSpec[]
  /** Syntax errors: offsets of the parser's error nodes outside any spec expression. */
  syntaxErrors: number[]
  /** The module's names after it ran. */
  globals: ReadonlyMap<string, Binding>
}

const kids = (n: SyntaxNode): SyntaxNode[] => {
  const out: SyntaxNode[] = []
  for (let c = n.firstChild; c; c = c.nextSibling) if (c.name !== 'Comment') out.push(c)
  return out
}
const PUNCT = new Set(['(', ')', '[', ']', '{', '}', ',', ':', '.', 'AssignOp'])

class Evaluator {
  private readonly mutated = new Map<string, number>()
  readonly found: FoundSpec[] = []
  readonly syntaxErrors: number[] = []

  constructor(
    private readonly src: string,
    private readonly environ: NodeJS.ProcessEnv,
    private readonly importer?: Importer,
  ) {}

  /** A project module, or undefined. */
  project(module: string): ImportedModule | string | undefined {
    if (module === 'os' || module === 'flytekit' || module.startsWith('flytekit.')) return undefined
    return this.importer?.(module)
  }

  text(n: SyntaxNode): string {
    return this.src.slice(n.from, n.to)
  }

  fail(n: SyntaxNode, why: string): never {
    throw new NotEvaluable(n, why)
  }

  // ---- names changed in place anywhere in the module (so never constants) ----
  collectMutations(top: SyntaxNode): void {
    const mark = (n: SyntaxNode | null) => {
      if (n?.name === 'VariableName' && !this.mutated.has(this.text(n))) this.mutated.set(this.text(n), n.from)
    }
    const cursor = top.cursor()
    do {
      const n = cursor.node
      if (n.name === 'CallExpression') {
        const callee = n.firstChild
        if (callee?.name === 'MemberExpression' && callee.lastChild?.name === 'PropertyName' && MUTATORS.has(this.text(callee.lastChild)))
          mark(callee.firstChild)
      } else if (n.name === 'AssignStatement' || n.name === 'UpdateStatement' || n.name === 'DeleteStatement') {
        for (const c of kids(n)) if (c.name === 'MemberExpression' && c.getChild('[')) mark(c.firstChild)
      } else if (n.name === 'ScopeStatement') {
        for (const c of kids(n)) mark(c)
      }
    } while (cursor.next())
  }

  // ---- statements ----
  block(stmts: SyntaxNode[], env: Env): void {
    for (const s of stmts) this.statement(s, env)
  }

  bodyOf(n: SyntaxNode): SyntaxNode[] {
    return kids(n).filter((c) => c.name !== ':' && !c.name.startsWith('⚠'))
  }

  /** Names a statement (or a block of statements) binds, at any depth outside nested functions and classes. */
  assigned(n: SyntaxNode, out = new Map<string, number>()): Map<string, number> {
    const add = (v: SyntaxNode) => v.name === 'VariableName' && !out.has(this.text(v)) && out.set(this.text(v), v.from)
    switch (n.name) {
      case 'AssignStatement': {
        const parts = kids(n)
        const lastOp = parts.map((p) => p.name).lastIndexOf('AssignOp')
        for (const p of parts.slice(0, lastOp)) if (p.name === 'VariableName') add(p)
          else if (p.name === 'TupleExpression' || p.name === 'ArrayExpression' || p.name === 'ParenthesizedExpression')
            for (const v of p.getChildren('VariableName')) add(v)
        return out
      }
      case 'UpdateStatement':
        add(kids(n)[0])
        return out
      case 'ImportStatement': {
        const parts = kids(n)
        const importAt = parts.findIndex((p) => p.name === 'import')
        parts.forEach((p, i) => {
          if (p.name === 'VariableName' && i > importAt && (parts[i + 1]?.name !== 'as')) add(p)
        })
        return out
      }
      case 'FunctionDefinition':
      case 'ClassDefinition':
        add(kids(n)[1])
        return out
      case 'ForStatement':
      case 'WithStatement': {
        const parts = kids(n)
        const bodyAt = parts.findIndex((p) => p.name === 'Body')
        const headEnd = n.name === 'ForStatement' ? parts.findIndex((p) => p.name === 'in') : bodyAt
        parts.slice(0, headEnd).forEach((p, i) => {
          if (p.name === 'VariableName' && (n.name === 'ForStatement' || parts[i - 1]?.name === 'as')) add(p)
        })
        break
      }
    }
    for (let c = n.firstChild; c; c = c.nextSibling)
      if (c.name === 'Body' || c.name === 'DecoratedStatement' || /Statement$|Clause$/.test(c.name)) this.assigned(c, out)
      else if (c.name === 'TryStatement' || c.name === 'IfStatement') this.assigned(c, out)
    // `except E as e`, match captures: any other VariableName directly after `as`
    const parts = kids(n)
    parts.forEach((p, i) => p.name === 'VariableName' && parts[i - 1]?.name === 'as' && add(p))
    return out
  }

  statement(n: SyntaxNode, env: Env): void {
    switch (n.name) {
      case 'ImportStatement':
        return this.importStatement(n, env)
      case 'AssignStatement':
        return this.assignStatement(n, env)
      case 'UpdateStatement': {
        const [target, , ...value] = kids(n)
        this.scanExpressions(value, env)
        if (target.name === 'VariableName') {
          const name = this.text(target)
          const op = this.text(kids(n)[1])
          try {
            if (op !== '+=' || value.length !== 1) this.fail(n, `\`${op}\` is not evaluated`)
            env.set(name, { value: this.add(n, this.lookup(target, env), this.eval(value[0], env)) })
          } catch (e) {
            env.set(name, { reason: this.reasonOf(e, name) })
          }
        } else this.scanExpressions([target], env)
        return
      }
      case 'DecoratedStatement': {
        const parts = kids(n)
        for (const d of parts.filter((p) => p.name === 'Decorator')) this.scanExpressions(kids(d), env)
        const def = parts.find((p) => p.name === 'FunctionDefinition' || p.name === 'ClassDefinition')
        if (def) this.statement(def, env)
        return
      }
      case 'FunctionDefinition':
      case 'ClassDefinition': {
        const parts = kids(n)
        const name = parts[1]
        // Defaults and base classes are evaluated where the definition runs.
        const params = parts.find((p) => p.name === 'ParamList' || p.name === 'ArgList')
        if (params) this.scanExpressions(kids(params).filter((p) => p.name !== 'VariableName' || n.name === 'ClassDefinition'), env)
        const inner: Env = new Map(env)
        if (params && n.name === 'FunctionDefinition')
          for (const p of params.getChildren('VariableName')) inner.set(this.text(p), { reason: `${this.text(p)} is a parameter of ${this.text(name)}()` })
        const body = parts.find((p) => p.name === 'Body')
        if (body) this.block(this.bodyOf(body), inner)
        if (name?.name === 'VariableName')
          env.set(this.text(name), { reason: `${this.text(name)} is a ${n.name === 'ClassDefinition' ? 'class' : 'function'}` })
        return
      }
      case 'IfStatement':
      case 'ForStatement':
      case 'WhileStatement':
      case 'TryStatement':
      case 'WithStatement':
      case 'MatchStatement':
        return this.compound(n, env)
      default:
        if (n.name.startsWith('⚠') || n.type.isError) {
          this.syntaxErrors.push(n.from)
          return
        }
        return this.scanExpressions(kids(n), env)
    }
  }

  /** A compound statement: its headers are scanned here, each body in a copy of the environment; afterwards every name
   * it may bind is unknown. In a loop those names are unknown inside the body too. */
  compound(n: SyntaxNode, env: Env): void {
    const loop = n.name === 'ForStatement' || n.name === 'WhileStatement'
    const what = loop ? 'a loop' : n.name === 'IfStatement' ? 'a conditional' : `a ${n.name.replace('Statement', '').toLowerCase()} statement`
    const bound = this.assigned(n)
    const unknown = (e: Env) => {
      for (const [name, at] of bound) e.set(name, { reason: `${name} is assigned in ${what} (line ${this.line(at)})` })
    }
    const visit = (node: SyntaxNode, e: Env) => {
      for (const c of kids(node)) {
        if (c.name === 'Body') {
          const inner: Env = new Map(e)
          if (loop) unknown(inner)
          this.block(this.bodyOf(c), inner)
        } else if (/Clause$/.test(c.name)) visit(c, e)
        else if (c.name !== 'VariableName' || !bound.has(this.text(c))) this.scanExpressions([c], e)
      }
    }
    const head: Env = new Map(env)
    if (n.name === 'ForStatement' || n.name === 'WithStatement') unknown(head)
    visit(n, head)
    unknown(env)
  }

  importStatement(n: SyntaxNode, env: Env): void {
    const parts = kids(n)
    if (parts[0]?.name === 'from') {
      const importAt = parts.findIndex((p) => p.name === 'import')
      const module = parts.slice(1, importAt).map((p) => this.text(p)).join('')
      const names = parts.slice(importAt + 1).filter((p) => !PUNCT.has(p.name))
      if (names.some((p) => p.name === '*')) {
        if (IMAGESPEC_MODULES.has(module)) env.set('ImageSpec', { value: new Ref('imagespec', 'ImageSpec') })
        if (COPYMODE_MODULES.has(module)) env.set('CopyFileDetection', { value: new Ref('copymode', 'CopyFileDetection') })
        return
      }
      for (let i = 0; i < names.length; i++) {
        const name = this.text(names[i])
        let alias = name
        if (names[i + 1]?.name === 'as') {
          alias = this.text(names[i + 2])
          i += 2
        }
        env.set(alias, this.fromImport(module, name))
      }
      return
    }
    // import a.b.c [as x], d
    const items: SyntaxNode[][] = [[]]
    for (const p of parts.slice(1)) if (p.name === ',') items.push([])
      else items[items.length - 1].push(p)
    for (const item of items) {
      const asAt = item.findIndex((p) => p.name === 'as')
      const dotted = (asAt >= 0 ? item.slice(0, asAt) : item).map((p) => this.text(p)).join('')
      if (!dotted) continue
      if (asAt >= 0) env.set(this.text(item[asAt + 1]), { value: new Ref('module', dotted) })
      else env.set(dotted.split('.')[0], { value: new Ref('module', dotted.split('.')[0]) })
    }
  }

  fromImport(module: string, name: string): Binding {
    const mod = this.project(module)
    if (typeof mod === 'string') return { reason: `${name} is imported from ${module}: ${mod}` }
    if (mod) {
      const b = mod.globals.get(name)
      if (b) return b
      const sub = this.project(module.endsWith('.') ? `${module}${name}` : `${module}.${name}`)
      if (sub && typeof sub !== 'string') return { value: new Ref('module', sub.key) }
      return { reason: `${name} is not defined by a module-level assignment in ${module}` }
    }
    const member = this.member(new Ref('module', module), name)
    if (member) return { value: member }
    if (module === 'os' || module.startsWith('flytekit')) return { reason: `${name} from ${module} is not evaluated` }
    return { reason: `${name} is imported from ${module}` }
  }

  /** Attribute `name` of a module or known object, or undefined. */
  member(of: Value, name: string): Value | undefined {
    if (of instanceof Ref && of.kind === 'module') {
      if (name === 'ImageSpec' && IMAGESPEC_MODULES.has(of.name)) return new Ref('imagespec', 'ImageSpec')
      if (name === 'CopyFileDetection' && COPYMODE_MODULES.has(of.name)) return new Ref('copymode', 'CopyFileDetection')
      if (of.name === 'os' && name === 'environ') return new Ref('environ', 'os.environ')
      if (of.name === 'os' && name === 'getenv') return new Ref('getenv', 'os.getenv')
      if (of.name === 'flytekit' || of.name.startsWith('flytekit.')) return new Ref('module', `${of.name}.${name}`)
      const mod = this.project(of.name)
      if (typeof mod === 'string') return undefined
      const b = mod?.globals.get(name)
      if (b) return 'value' in b ? b.value : undefined
      const sub = of.name.startsWith('file:') ? undefined : this.project(`${of.name}.${name}`)
      return sub && typeof sub !== 'string' ? new Ref('module', sub.key) : undefined
    }
    if (of instanceof Ref && of.kind === 'environ' && name === 'get') return new Ref('environ.get', 'os.environ.get')
    if (of instanceof Ref && of.kind === 'copymode' && COPY_MODES.has(name)) return new EnumMember('CopyFileDetection', name)
    if (of instanceof SpecValue && SPEC_METHODS.has(name)) return new Ref('method', name, of)
    return undefined
  }

  assignStatement(n: SyntaxNode, env: Env): void {
    const parts = kids(n)
    const lastOp = parts.map((p) => p.name).lastIndexOf('AssignOp')
    if (lastOp < 0) return this.scanExpressions(parts, env) // an annotation without a value
    const targets = parts.slice(0, lastOp).filter((p) => p.name !== 'AssignOp' && p.name !== 'TypeDef')
    const value = parts.slice(lastOp + 1)
    const simple = targets.filter((t) => t.name === 'VariableName')
    const variable = simple.length > 0 && value.length === 1 ? this.text(simple[0]) : undefined
    this.scanExpressions(value, env, variable)
    this.scanExpressions(targets.filter((t) => t.name !== 'VariableName'), env)
    const bound = this.assigned(n)
    let binding: Binding
    if (value.length !== 1 || targets.some((t) => t.name !== 'VariableName' && t.name !== 'MemberExpression'))
      binding = { reason: 'assigned by unpacking' }
    else
      try {
        binding = { value: this.eval(value[0], env) }
      } catch (e) {
        binding = { reason: this.reasonOf(e, variable ?? 'it') }
      }
    for (const [name] of bound) env.set(name, binding)
  }

  reasonOf(e: unknown, name: string): string {
    if (!(e instanceof NotEvaluable)) throw e
    return `${name} has no static value (line ${this.line(e.node.from)}: ${e.why})`
  }

  line(offset: number): number {
    let line = 1
    for (let i = this.src.indexOf('\n'); i >= 0 && i < offset; i = this.src.indexOf('\n', i + 1)) line++
    return line
  }

  // ---- finding spec expressions ----
  isSpecCall(n: SyntaxNode, env: Env): boolean {
    if (n.name !== 'CallExpression') return false
    const callee = n.firstChild
    if (!callee) return false
    if (callee.name === 'MemberExpression' && callee.lastChild?.name === 'PropertyName' && SPEC_METHODS.has(this.text(callee.lastChild)))
      return true
    try {
      // ImageSpec(...), or ImageSpec.<classmethod>(...) (from_env: reported as not evaluable)
      const isClass = (x: SyntaxNode) => {
        try {
          const c = this.eval(x, env)
          return c instanceof Ref && c.kind === 'imagespec'
        } catch {
          return false
        }
      }
      return isClass(callee) || (callee.name === 'MemberExpression' && !!callee.getChild('.') && isClass(callee.firstChild!))
    } catch {
      return false
    }
  }

  /** Finds the outermost spec expressions inside `nodes` (in source order) and evaluates each. */
  scanExpressions(nodes: SyntaxNode[], env: Env, variable?: string): void {
    for (const top of nodes) {
      const visit = (n: SyntaxNode) => {
        if (n.type.isError) {
          this.syntaxErrors.push(n.from)
          return
        }
        if (n.name === 'LambdaExpression' || /Comprehension/.test(n.name)) {
          // their names are bound per call/iteration: a spec inside is reported, but cannot see them
          const inner: Env = new Map(env)
          for (const v of n.getChildren('VariableName')) inner.set(this.text(v), { reason: `${this.text(v)} is bound by ${n.name === 'LambdaExpression' ? 'a lambda' : 'a comprehension'}` })
          for (let c = n.firstChild; c; c = c.nextSibling) this.scanExpressions([c], inner)
          return
        }
        if (this.isSpecCall(n, env)) {
          this.record(n, env, n === top ? variable : undefined)
          return
        }
        for (let c = n.firstChild; c; c = c.nextSibling) visit(c)
      }
      visit(top)
    }
  }

  record(n: SyntaxNode, env: Env, variable: string | undefined): void {
    const found: FoundSpec = { from: n.from, ...(variable === undefined ? {} : { variable }) }
    let hasError = false
    n.toTree().iterate({ enter: (c) => void (c.type.isError && (hasError = true)) })
    try {
      if (hasError) this.fail(n, 'a syntax error')
      const v = this.eval(n, env)
      if (!(v instanceof SpecValue)) this.fail(n, `it is a ${typeName(v)}, not an ImageSpec`)
      found.value = v
    } catch (e) {
      if (!(e instanceof NotEvaluable)) throw e
      found.failure = { why: e.why, from: e.node.from, to: e.node.to }
    }
    this.found.push(found)
  }

  // ---- expressions ----
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
        const parts = kids(n).map((c) => (c.name === 'FormatString' ? this.fstring(c, env) : this.string(c)))
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
        if (this.text(op) !== '+') this.fail(n, `the operator \`${this.text(op)}\` is not evaluated`)
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
    if (typeof a === 'number' && typeof b === 'number' && typeof a !== 'boolean' && typeof b !== 'boolean') return a + b
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
      const expr = parts.filter((c) => !['FormatConversion', 'FormatSpec', 'FormatSelfDoc'].includes(c.name))
      if (parts.some((c) => c.name === 'FormatSelfDoc')) this.fail(r, 'a self-documenting f-string field (`=`)')
      if (parts.some((c) => c.name === 'FormatSpec')) this.fail(r, 'an f-string format spec')
      if (expr.length !== 1) this.fail(r, 'an f-string field')
      const v = this.eval(expr[0], env)
      if (!isData(v) || v instanceof SpecValue) this.fail(expr[0], `${typeName(v)} in an f-string`)
      const conversion = parts.find((c) => c.name === 'FormatConversion')
      const conv = conversion ? this.text(conversion).slice(1) : 's'
      if (conv === 'a') this.fail(r, 'the !a conversion')
      const data = (v instanceof EnumMember ? this.fail(expr[0], 'an enum in an f-string') : v) as PyReprValue
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
        this.fail(n, `ImageSpec.${name} is not evaluated${name === 'from_env' ? ' (it reads the running Python environment)' : ''}`)
      if (m === undefined) this.fail(n, `the attribute ${name} of a ${typeName(of)} is not evaluated`)
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
    const seq = Array.isArray(of) ? of : of instanceof PyTuple ? (of.items as Value[]) : typeof of === 'string' ? [...of] : undefined
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
      const method = calleeNode.name === 'MemberExpression' && SPEC_METHODS.has(this.text(calleeNode.lastChild!))
      if (method || !(e instanceof NotEvaluable)) throw e
      return this.fail(n, `a call of ${oneLine(this.text(calleeNode))}()`)
    }
    if (!(callee instanceof Ref) || callee.kind === 'module' || callee.kind === 'environ' || callee.kind === 'copymode')
      this.fail(n, `a call of ${oneLine(this.text(calleeNode))}()`)
    const { positional, keywords } = this.args(argList, env)
    const argsOf = (names: string[], min: number): Value[] => {
      if (positional.length > names.length) this.fail(n, `${callee.name}() takes at most ${names.length} arguments`)
      const out = [...positional]
      for (const [k, v] of keywords) {
        const i = names.indexOf(k)
        if (i < 0 || i < positional.length) this.fail(n, `${callee.name}() got an unexpected keyword argument '${k}'`)
        out[i] = v
      }
      for (let i = 0; i < min; i++) if (out[i] === undefined) this.fail(n, `${callee.name}() is missing an argument`)
      return out
    }
    switch (callee.kind) {
      case 'imagespec': {
        const args = new Map<string, Value>()
        if (positional.length > IMAGE_SPEC_FIELDS.length) this.fail(n, 'ImageSpec() takes at most 29 arguments')
        positional.forEach((v, i) => args.set(IMAGE_SPEC_FIELDS[i], v))
        for (const [k, v] of keywords) {
          if (args.has(k)) this.fail(n, `ImageSpec() got multiple values for argument '${k}'`)
          args.set(k, v)
        }
        return new SpecValue(args, false)
      }
      case 'getenv':
      case 'environ.get': {
        const [key, dflt = null] = argsOf(callee.kind === 'getenv' ? ['key', 'default'] : ['key', 'default'], 1)
        if (typeof key !== 'string') this.fail(n, `${callee.name}() needs a str key`)
        return this.environ[key] ?? dflt
      }
      case 'method': {
        const spec = callee.self!
        if (callee.name === 'force_push') {
          argsOf([], 0)
          return new SpecValue(spec.args, true)
        }
        const field = WITH_METHODS[callee.name]
        if (positional.length + keywords.size !== 1) this.fail(n, `${callee.name}() takes one argument`)
        const value = positional[0] ?? [...keywords.values()][0]
        return this.update(n, spec, field, value)
      }
    }
    return this.fail(n, `a call of ${oneLine(this.text(calleeNode))}()`)
  }

  /** flytekit's `_update_attribute`: a str is appended, a list extends, a dict updates; a new spec, force_push dropped. */
  update(n: SyntaxNode, spec: SpecValue, field: string, values: Value): SpecValue {
    const current = spec.args.get(field) ?? null
    let next: Value
    if (current === null) next = values instanceof PyDict ? new PyDict(new Map()) : []
    else next = current
    if (typeof values === 'string') {
      if (!Array.isArray(next)) this.fail(n, `TypeError: Cannot append string to non-list attribute ${field}`)
      next = [...next, values]
    } else if (Array.isArray(values)) {
      if (!Array.isArray(next)) this.fail(n, `TypeError: Cannot extend non-list attribute ${field}`)
      next = [...next, ...values]
    } else if (values instanceof PyDict) {
      if (!(next instanceof PyDict)) this.fail(n, `TypeError: Cannot update non-dict attribute ${field}`)
      next = new PyDict(new Map([...next.entries, ...values.entries]))
    }
    const args = new Map(spec.args)
    args.set(field, next)
    return new SpecValue(args, false)
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
            if (keywords.has(k)) this.fail(parts[i], `got multiple values for keyword argument '${k}'`)
            keywords.set(k, x)
          }
        }
      } else if (p.name === 'VariableName' && parts[i + 1]?.name === 'AssignOp') {
        const k = this.text(p)
        if (keywords.has(k)) this.fail(p, `keyword argument repeated: ${k}`)
        keywords.set(k, this.eval(parts[i + 2], env))
        i += 2
      } else if (/Comprehension/.test(p.name) || p.name === 'for') this.fail(p, 'a generator expression')
      else positional.push(this.eval(p, env))
    }
    return { positional, keywords }
  }
}

/** Python's truth value of data. */
function truthy(v: Value): boolean {
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
function describeNode(name: string): string {
  return NODE_WORDS[name] ?? name.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase()
}

export const oneLine = (s: string, max = 80): string => {
  const t = s.replace(/\s*\n\s*/g, ' ').trim()
  return t.length > max ? `${t.slice(0, max - 1)}…` : t
}

/**
 * Evaluates one parsed module: every ImageSpec expression, in source order, and the module's names after it ran.
 * `importer` resolves imports of the project's own modules.
 */
export function evaluateModule(src: string, tree: Tree, environ: NodeJS.ProcessEnv, importer?: Importer): ModuleScan {
  const ev = new Evaluator(src, environ, importer)
  const top = tree.topNode
  ev.collectMutations(top)
  const globals: Env = new Map()
  ev.block(kids(top), globals)
  return { specs: ev.found, syntaxErrors: ev.syntaxErrors, globals }
}
