import { readFileSync } from 'node:fs'

/**
 * Reads a small UTF-8 file (a spec, a `.dockerignore`) as a promise. The read itself is synchronous: an asynchronous
 * one would start libuv's thread pool (four threads) and `node:fs/promises` would load Node's stream and readline
 * modules, each costing more at a quick command's start than reading a few hundred bytes.
 */
export function readFileText(file: string): Promise<string> {
  try {
    return Promise.resolve(readFileSync(file, 'utf8'))
  } catch (e) {
    return Promise.reject(e)
  }
}
