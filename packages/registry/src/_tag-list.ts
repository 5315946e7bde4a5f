// A repository's tag list (`GET /v2/<name>/tags/list`), read page by page until the asked tags were all seen.
import { ProbeFailure } from './_failure.js'
import { readJson, RegistrySession } from './_session.js'
import { headerList, type HttpResponse } from './_transport.js'

const MAX_TAG_PAGE = 16 << 20

export interface TagList {
  /** The asked tags that the list holds. */
  present: Set<string>
  /** Whether the whole list was read (else a tag not in `present` may still exist). */
  complete: boolean
}

/** The requests of one tag list, under one deadline. */
export class TagListSession extends RegistrySession {
  /**
   * `GET /v2/<name>/tags/list`, following `Link: <…>; rel="next"` (same origin only) for at most `maxPages` pages or
   * until every tag of `tags` was seen. Throws a `ProbeFailure` when the list is refused or fails before its first
   * page; a failure on a later page keeps what was seen (incomplete).
   */
  async tagList(
    tags: Set<string>,
    maxPages: number,
    pageSize: number | undefined,
  ): Promise<TagList> {
    const { ref } = this
    await this.authenticateUpfront()
    const present = new Set<string>()
    let path = `/v2/${ref.repository}/tags/list${pageSize ? `?n=${pageSize}` : ''}`
    for (let page = 1; ; page++) {
      let res: HttpResponse
      try {
        res = await this.registryRequest('GET', path, MAX_TAG_PAGE, 'application/json')
        if (res.status === 404 && page === 1 && isNameUnknown(res.body))
          return { present, complete: true } // no such repository
        if (res.status !== 200)
          throw new ProbeFailure(
            res.status >= 500 ? 'server' : 'protocol',
            `Registry "${ref.registry}" answered HTTP ${res.status} to the tag list of "${ref.repository}"`,
          )
      } catch (e) {
        if (page > 1 && e instanceof ProbeFailure) return { present, complete: false }
        throw e
      }
      const doc = readJson(res.body, ref)
      if (doc.tags !== null && doc.tags !== undefined && !Array.isArray(doc.tags))
        throw new ProbeFailure(
          'protocol',
          `Registry "${ref.registry}" sent a tag list without a "tags" list for "${ref.repository}"`,
        )
      for (const tag of doc.tags ?? [])
        if (typeof tag === 'string' && tags.has(tag)) present.add(tag)
      if (present.size === tags.size) return { present, complete: true }
      const next = this.nextPage(headerList(res, 'link'), path)
      if (next === undefined) return { present, complete: true }
      if (next === null || page >= maxPages) return { present, complete: false }
      path = next
    }
  }

  /** The path of the `rel="next"` link: `undefined` when there is none, `null` when it leaves the registry or loops. */
  private nextPage(link: string | undefined, current: string): string | null | undefined {
    if (link === undefined) return undefined
    for (const m of link.matchAll(/<([^>]*)>((?:\s*;\s*[^;,]*)*)/g)) {
      const rel = /(?:^|;)\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(m[2]!)
      if (!rel || !(rel[1] ?? rel[2]!).toLowerCase().split(/\s+/).includes('next')) continue
      const origin = this.origin
      let url: URL
      try {
        url = new URL(m[1]!, origin + current)
      } catch {
        return null
      }
      const path = url.pathname + url.search
      return url.origin === new URL(origin).origin && path !== current ? path : null
    }
    return undefined
  }
}

/** Whether a 404 body is the registry's `NAME_UNKNOWN` error (the repository does not exist). */
function isNameUnknown(body: Buffer): boolean {
  try {
    const doc = JSON.parse(body.toString('utf8')) as { errors?: { code?: unknown }[] }
    return Array.isArray(doc?.errors) && doc.errors.some((e) => e?.code === 'NAME_UNKNOWN')
  } catch {
    return false
  }
}
