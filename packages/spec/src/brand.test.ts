// Two copies of @imagespec/spec in one process (the bundled CLI and a builder plugin that imports the package) must
// agree on PyFloat and ImagespecError. A `?copy` import makes Vite load a second, separate instance of the module.
import { describe, expect, it } from 'vitest'
import { ImagespecError, isImagespecError } from './errors.js'
import { computeId, idPreimage } from './identity.js'
import { normalizeSpec } from './normalize.js'
import { PyFloat } from './types.js'

// A computed specifier: TypeScript does not resolve it (Vite does, query included).
const copy = (file: string) => `./${file}.js?copy`
const other = async () => ({
  types: (await import(copy('types'))) as typeof import('./types.js'),
  errors: (await import(copy('errors'))) as typeof import('./errors.js'),
})

describe('values from another copy of the package', () => {
  it('is really another copy', async () => {
    const { types } = await other()
    expect(types.PyFloat).not.toBe(PyFloat)
  })

  it('PyFloat instanceof holds across copies, both ways, and nothing else passes', async () => {
    const { types } = await other()
    expect(new types.PyFloat(3.1)).toBeInstanceOf(PyFloat)
    expect(new PyFloat(3.1) instanceof types.PyFloat).toBe(true)
    for (const v of [3.1, '3.1', null, undefined, { value: 3.1 }, Object.create(null)])
      expect(v instanceof PyFloat).toBe(false)
  })

  it('a foreign PyFloat hashes like ours (YAML 3.10 is the float 3.1)', async () => {
    const { types } = await other()
    const ours = normalizeSpec({ name: 'x', python_version: new PyFloat(3.1) })
    const theirs = normalizeSpec({ name: 'x', python_version: new types.PyFloat(3.1) })
    expect(idPreimage(theirs)).toBe(idPreimage(ours))
    expect(idPreimage(ours)).toContain("'python_version': 3.1,")
    expect(computeId(theirs)).toBe(computeId(ours))
  })

  it('ImagespecError instanceof holds across copies; a subclass keeps its own check', async () => {
    const { errors } = await other()
    const foreign = new errors.ImagespecError('E_USAGE', 'bad')
    expect(foreign).toBeInstanceOf(ImagespecError)
    expect(isImagespecError(foreign)).toBe(true)
    expect(new Error('x') instanceof ImagespecError).toBe(false)
    class Narrow extends ImagespecError {}
    expect(new Narrow('E_USAGE', 'n')).toBeInstanceOf(ImagespecError)
    expect(foreign instanceof Narrow).toBe(false)
    expect(new Narrow('E_USAGE', 'n')).toBeInstanceOf(Narrow)
  })
})
