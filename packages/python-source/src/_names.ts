// Which names a Python module changes in place, and which names a statement binds: read from the syntax tree alone.
import type { SyntaxNode } from '@lezer/common'
import { kids } from './_eval-helpers.js'

/** Methods that change a list or dict in place: a name they are called on is no constant. */
const MUTATORS = new Set([
  'append',
  'extend',
  'insert',
  'update',
  'pop',
  'popitem',
  'remove',
  'clear',
  'setdefault',
  'sort',
  'reverse',
])

/** Adds to `out` the names changed in place anywhere under `top` (so never constants), each with its first offset. */
export function collectMutations(
  top: SyntaxNode,
  text: (n: SyntaxNode) => string,
  out: Map<string, number>,
): void {
  const mark = (n: SyntaxNode | null) => {
    if (n?.name === 'VariableName' && !out.has(text(n))) out.set(text(n), n.from)
  }
  const cursor = top.cursor()
  do {
    const n = cursor.node
    if (n.name === 'CallExpression') {
      const callee = n.firstChild
      if (
        callee?.name === 'MemberExpression' &&
        callee.lastChild?.name === 'PropertyName' &&
        MUTATORS.has(text(callee.lastChild))
      )
        mark(callee.firstChild)
    } else if (
      n.name === 'AssignStatement' ||
      n.name === 'UpdateStatement' ||
      n.name === 'DeleteStatement'
    ) {
      for (const c of kids(n))
        if (c.name === 'MemberExpression' && c.getChild('[')) mark(c.firstChild)
    } else if (n.name === 'ScopeStatement') {
      for (const c of kids(n)) mark(c)
    }
  } while (cursor.next())
}

/** Names a statement (or a block of statements) binds, at any depth outside nested functions and classes. */
export function assignedNames(
  n: SyntaxNode,
  text: (n: SyntaxNode) => string,
  out = new Map<string, number>(),
): Map<string, number> {
  const add = (v: SyntaxNode) =>
    v.name === 'VariableName' && !out.has(text(v)) && out.set(text(v), v.from)
  switch (n.name) {
    case 'AssignStatement': {
      const parts = kids(n)
      const lastOp = parts.map((p) => p.name).lastIndexOf('AssignOp')
      for (const p of parts.slice(0, lastOp))
        if (p.name === 'VariableName') add(p)
        else if (
          p.name === 'TupleExpression' ||
          p.name === 'ArrayExpression' ||
          p.name === 'ParenthesizedExpression'
        )
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
        if (p.name === 'VariableName' && i > importAt && parts[i + 1]?.name !== 'as') add(p)
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
        if (p.name === 'VariableName' && (n.name === 'ForStatement' || parts[i - 1]?.name === 'as'))
          add(p)
      })
      break
    }
  }
  for (let c = n.firstChild; c; c = c.nextSibling)
    if (c.name === 'Body' || c.name === 'DecoratedStatement' || /Statement$|Clause$/.test(c.name))
      assignedNames(c, text, out)
    else if (c.name === 'TryStatement' || c.name === 'IfStatement') assignedNames(c, text, out)
  // `except E as e`, match captures: any other VariableName directly after `as`
  const parts = kids(n)
  parts.forEach((p, i) => p.name === 'VariableName' && parts[i - 1]?.name === 'as' && add(p))
  return out
}
