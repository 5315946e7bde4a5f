// The static evaluator: finds the ImageSpec constructions of one Python module and evaluates them without Python.
// Expressions are evaluated by its base class (_expressions.ts); this file has statements, imports, ImageSpec calls and
// flytekit's `with_*` methods.
import type { SyntaxNode, Tree } from '@lezer/common'
import { IMAGE_SPEC_FIELDS } from '@imagespec/spec'
import {
  NotEvaluable,
  PUNCT,
  SPEC_METHODS,
  WITH_METHODS,
  kids,
  type Binding,
  type Env,
  type ImportedModule,
} from './_eval-helpers.js'
import { ExpressionEvaluator } from './_expressions.js'
import { assignedNames, collectMutations } from './_names.js'
import { EnumMember, PyDict, Ref, SpecValue, typeName, type Value } from './_values.js'

export { oneLine } from './_eval-helpers.js'

/** Modules that export `ImageSpec` and `CopyFileDetection`. */
const IMAGESPEC_MODULES = new Set([
  'flytekit',
  'flytekit.image_spec',
  'flytekit.image_spec.image_spec',
])
const COPYMODE_MODULES = new Set(['flytekit', 'flytekit.constants', 'flytekit.tools.ignore'])
const COPY_MODES = new Set(['LOADED_MODULES', 'ALL', 'NO_COPY'])

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

class Evaluator extends ExpressionEvaluator {
  readonly found: FoundSpec[] = []
  readonly syntaxErrors: number[] = []

  constructor(
    src: string,
    environ: NodeJS.ProcessEnv,
    private readonly importer?: Importer,
  ) {
    super(src, environ)
  }

  /** A project module, or undefined. */
  project(module: string): ImportedModule | string | undefined {
    if (module === 'os' || module === 'flytekit' || module.startsWith('flytekit.')) return undefined
    return this.importer?.(module)
  }

  // ---- names changed in place anywhere in the module (so never constants) ----
  collectMutations(top: SyntaxNode): void {
    collectMutations(top, (n) => this.text(n), this.mutated)
  }

  // ---- statements ----
  block(stmts: SyntaxNode[], env: Env): void {
    for (const s of stmts) this.statement(s, env)
  }

  bodyOf(n: SyntaxNode): SyntaxNode[] {
    return kids(n).filter((c) => c.name !== ':' && !c.name.startsWith('⚠'))
  }

  /** Names a statement (or a block of statements) binds, at any depth outside nested functions and classes. */
  assigned(n: SyntaxNode): Map<string, number> {
    return assignedNames(n, (c) => this.text(c))
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
            env.set(name, {
              value: this.add(n, this.lookup(target, env), this.eval(value[0], env)),
            })
          } catch (e) {
            env.set(name, { reason: this.reasonOf(e, name) })
          }
        } else this.scanExpressions([target], env)
        return
      }
      case 'DecoratedStatement': {
        const parts = kids(n)
        for (const d of parts.filter((p) => p.name === 'Decorator'))
          this.scanExpressions(kids(d), env)
        const def = parts.find(
          (p) => p.name === 'FunctionDefinition' || p.name === 'ClassDefinition',
        )
        if (def) this.statement(def, env)
        return
      }
      case 'FunctionDefinition':
      case 'ClassDefinition': {
        const parts = kids(n)
        const name = parts[1]
        // Defaults and base classes are evaluated where the definition runs.
        const params = parts.find((p) => p.name === 'ParamList' || p.name === 'ArgList')
        if (params)
          this.scanExpressions(
            kids(params).filter((p) => p.name !== 'VariableName' || n.name === 'ClassDefinition'),
            env,
          )
        const inner: Env = new Map(env)
        if (params && n.name === 'FunctionDefinition')
          for (const p of params.getChildren('VariableName'))
            inner.set(this.text(p), {
              reason: `${this.text(p)} is a parameter of ${this.text(name)}()`,
            })
        const body = parts.find((p) => p.name === 'Body')
        if (body) this.block(this.bodyOf(body), inner)
        if (name?.name === 'VariableName')
          env.set(this.text(name), {
            reason: `${this.text(name)} is a ${n.name === 'ClassDefinition' ? 'class' : 'function'}`,
          })
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
    const what = loop
      ? 'a loop'
      : n.name === 'IfStatement'
        ? 'a conditional'
        : `a ${n.name.replace('Statement', '').toLowerCase()} statement`
    const bound = this.assigned(n)
    const unknown = (e: Env) => {
      for (const [name, at] of bound)
        e.set(name, { reason: `${name} is assigned in ${what} (line ${this.line(at)})` })
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
      const module = parts
        .slice(1, importAt)
        .map((p) => this.text(p))
        .join('')
      const names = parts.slice(importAt + 1).filter((p) => !PUNCT.has(p.name))
      if (names.some((p) => p.name === '*')) {
        if (IMAGESPEC_MODULES.has(module))
          env.set('ImageSpec', { value: new Ref('imagespec', 'ImageSpec') })
        if (COPYMODE_MODULES.has(module))
          env.set('CopyFileDetection', { value: new Ref('copymode', 'CopyFileDetection') })
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
    for (const p of parts.slice(1))
      if (p.name === ',') items.push([])
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
    if (module === 'os' || module.startsWith('flytekit'))
      return { reason: `${name} from ${module} is not evaluated` }
    return { reason: `${name} is imported from ${module}` }
  }

  /** Attribute `name` of a module or known object, or undefined. */
  member(of: Value, name: string): Value | undefined {
    if (of instanceof Ref && of.kind === 'module') {
      if (name === 'ImageSpec' && IMAGESPEC_MODULES.has(of.name))
        return new Ref('imagespec', 'ImageSpec')
      if (name === 'CopyFileDetection' && COPYMODE_MODULES.has(of.name))
        return new Ref('copymode', 'CopyFileDetection')
      if (of.name === 'os' && name === 'environ') return new Ref('environ', 'os.environ')
      if (of.name === 'os' && name === 'getenv') return new Ref('getenv', 'os.getenv')
      if (of.name === 'flytekit' || of.name.startsWith('flytekit.'))
        return new Ref('module', `${of.name}.${name}`)
      const mod = this.project(of.name)
      if (typeof mod === 'string') return undefined
      const b = mod?.globals.get(name)
      if (b) return 'value' in b ? b.value : undefined
      const sub = of.name.startsWith('file:') ? undefined : this.project(`${of.name}.${name}`)
      return sub && typeof sub !== 'string' ? new Ref('module', sub.key) : undefined
    }
    if (of instanceof Ref && of.kind === 'environ' && name === 'get')
      return new Ref('environ.get', 'os.environ.get')
    if (of instanceof Ref && of.kind === 'copymode' && COPY_MODES.has(name))
      return new EnumMember('CopyFileDetection', name)
    if (of instanceof SpecValue && SPEC_METHODS.has(name)) return new Ref('method', name, of)
    return undefined
  }

  assignStatement(n: SyntaxNode, env: Env): void {
    const parts = kids(n)
    const lastOp = parts.map((p) => p.name).lastIndexOf('AssignOp')
    if (lastOp < 0) return this.scanExpressions(parts, env) // an annotation without a value
    const targets = parts
      .slice(0, lastOp)
      .filter((p) => p.name !== 'AssignOp' && p.name !== 'TypeDef')
    const value = parts.slice(lastOp + 1)
    const simple = targets.filter((t) => t.name === 'VariableName')
    const variable = simple.length > 0 && value.length === 1 ? this.text(simple[0]) : undefined
    this.scanExpressions(value, env, variable)
    this.scanExpressions(
      targets.filter((t) => t.name !== 'VariableName'),
      env,
    )
    const bound = this.assigned(n)
    let binding: Binding
    if (
      value.length !== 1 ||
      targets.some((t) => t.name !== 'VariableName' && t.name !== 'MemberExpression')
    )
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

  // ---- finding spec expressions ----
  isSpecCall(n: SyntaxNode, env: Env): boolean {
    if (n.name !== 'CallExpression') return false
    const callee = n.firstChild
    if (!callee) return false
    if (
      callee.name === 'MemberExpression' &&
      callee.lastChild?.name === 'PropertyName' &&
      SPEC_METHODS.has(this.text(callee.lastChild))
    )
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
      return (
        isClass(callee) ||
        (callee.name === 'MemberExpression' &&
          !!callee.getChild('.') &&
          isClass(callee.firstChild!))
      )
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
          for (const v of n.getChildren('VariableName'))
            inner.set(this.text(v), {
              reason: `${this.text(v)} is bound by ${n.name === 'LambdaExpression' ? 'a lambda' : 'a comprehension'}`,
            })
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

  // ---- ImageSpec(...) and its methods ----
  protected specCall(
    n: SyntaxNode,
    callee: Ref,
    positional: Value[],
    keywords: Map<string, Value>,
    argsOf: (names: string[], min: number) => Value[],
  ): Value {
    if (callee.kind === 'imagespec') {
      const args = new Map<string, Value>()
      if (positional.length > IMAGE_SPEC_FIELDS.length)
        this.fail(n, 'ImageSpec() takes at most 29 arguments')
      positional.forEach((v, i) => args.set(IMAGE_SPEC_FIELDS[i], v))
      for (const [k, v] of keywords) {
        if (args.has(k)) this.fail(n, `ImageSpec() got multiple values for argument '${k}'`)
        args.set(k, v)
      }
      return new SpecValue(args, false)
    }
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

  /** flytekit's `_update_attribute`: a str is appended, a list extends, a dict updates; a new spec, force_push dropped. */
  update(n: SyntaxNode, spec: SpecValue, field: string, values: Value): SpecValue {
    const current = spec.args.get(field) ?? null
    let next: Value
    if (current === null) next = values instanceof PyDict ? new PyDict(new Map()) : []
    else next = current
    if (typeof values === 'string') {
      if (!Array.isArray(next))
        this.fail(n, `TypeError: Cannot append string to non-list attribute ${field}`)
      next = [...next, values]
    } else if (Array.isArray(values)) {
      if (!Array.isArray(next)) this.fail(n, `TypeError: Cannot extend non-list attribute ${field}`)
      next = [...next, ...values]
    } else if (values instanceof PyDict) {
      if (!(next instanceof PyDict))
        this.fail(n, `TypeError: Cannot update non-dict attribute ${field}`)
      next = new PyDict(new Map([...next.entries, ...values.entries]))
    }
    const args = new Map(spec.args)
    args.set(field, next)
    return new SpecValue(args, false)
  }
}

/**
 * Evaluates one parsed module: every ImageSpec expression, in source order, and the module's names after it ran.
 * `importer` resolves imports of the project's own modules.
 */
export function evaluateModule(
  src: string,
  tree: Tree,
  environ: NodeJS.ProcessEnv,
  importer?: Importer,
): ModuleScan {
  const ev = new Evaluator(src, environ, importer)
  const top = tree.topNode
  ev.collectMutations(top)
  const globals: Env = new Map()
  ev.block(kids(top), globals)
  return { specs: ev.found, syntaxErrors: ev.syntaxErrors, globals }
}
