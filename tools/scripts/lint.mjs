#!/usr/bin/env node
// Workspace lint: module boundaries by Nx tag, dependency declarations, and "a library never prints or exits".
// Usage: node tools/scripts/lint.mjs <packageDir>
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs'
import { join, relative, resolve, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const allowed = {
  'type:contract': [],
  'type:lib': ['type:contract'],
  'type:engine': ['type:lib', 'type:contract'],
  'type:app': ['type:engine', 'type:contract'],
  'type:test': ['type:contract', 'type:lib'],
  // alternative builders: the contract, and the engine's context helpers (the engine loads them only at run time)
  'type:plugin': ['type:contract', 'type:engine'],
}
const tags = {}
for (const base of ['packages', 'tools']) {
  for (const d of readdirSync(join(root, base))) {
    const pj = join(root, base, d, 'package.json')
    if (existsSync(pj)) {
      const p = JSON.parse(readFileSync(pj, 'utf8'))
      tags[p.name] = p.nx?.tags?.find((t) => t.startsWith('type:'))
    }
  }
}
const pkgDir = resolve(process.argv[2] ?? '.')
const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'))
const myTag = pkg.nx?.tags?.find((t) => t.startsWith('type:'))
const declared = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})])
const runtimeDeclared = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})])
const problems = []
const walk = (d) => readdirSync(d).flatMap((f) => {
  const p = join(d, f)
  if (f === 'node_modules' || f === 'dist') return []
  return statSync(p).isDirectory() ? walk(p) : /\.(ts|mts|js|mjs)$/.test(f) ? [p] : []
})
const files = ['src', 'test'].filter((d) => existsSync(join(pkgDir, d))).flatMap((d) => walk(join(pkgDir, d)))
const builtin = new Set((await import('node:module')).builtinModules)
for (const file of files) {
  const rel = relative(root, file)
  const isTest = /\.test\.ts$/.test(file) || rel.includes('/test/')
  const text = readFileSync(file, 'utf8')
  const importRe = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g
  for (const m of text.matchAll(importRe)) {
    const spec = m[1] ?? m[2]
    if (spec.startsWith('.') || spec.startsWith('node:') || builtin.has(spec)) continue
    const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]
    if (name.startsWith('@imagespec/')) {
      if (spec !== name) problems.push(`${rel}: deep import "${spec}" (only "${name}" is public)`)
      const t = tags[name]
      if (name !== pkg.name && !isTest && !(allowed[myTag] ?? []).includes(t))
        problems.push(`${rel}: ${pkg.name} (${myTag}) may not import ${name} (${t})`)
      if (t === 'type:test' && !isTest) problems.push(`${rel}: test utilities imported from non-test code`)
    }
    if (name !== pkg.name && !declared.has(name)) problems.push(`${rel}: imports "${name}" which package.json does not declare`)
    else if (!isTest && name !== pkg.name && !runtimeDeclared.has(name) && !/^import\s+type\b/.test(m[0].trim()))
      problems.push(`${rel}: runtime import of "${name}" which is only a devDependency`)
  }
  if (myTag !== 'type:app' && !isTest && file.includes('/src/')) {
    text.split('\n').forEach((line, i) => {
      if (/^\s*(\/\/|\*)/.test(line)) return
      if (/\bconsole\.(log|error|warn|info|debug)\(/.test(line)) problems.push(`${rel}:${i + 1}: libraries never print (console.*)`)
      if (/\bprocess\.exit\(/.test(line)) problems.push(`${rel}:${i + 1}: libraries never exit (process.exit)`)
    })
  }
}
if (problems.length) {
  process.stderr.write(problems.map((p) => `lint: ${p}`).join('\n') + '\n')
  process.exitCode = 1
}
