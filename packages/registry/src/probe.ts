import { formatReference, parseReference, type ImageReference } from '@imagespec/spec'
import { createClient, checkPositive } from './_client.js'
import { underDeadline } from './_deadline.js'
import { ProbeSession } from './_manifest.js'
import { parsePlatform, type Platform } from './_platform.js'
import { TagListSession, type TagList } from './_tag-list.js'
import type {
  ExistenceResult,
  Prober,
  ProbeManyOptions,
  ProbeOptions,
  ProbeRequestOptions,
  ProbeResult,
} from './types.js'

/**
 * The fewest different tags of one repository in one `probeMany` call that are checked through its tag list. Below
 * it, the per-tag HEADs already answer within one concurrent round trip for at most 3 small requests, while a tag
 * list costs a round trip of its own (before the HEADs, when digests are wanted) and a body that grows with the
 * repository (every tag it holds, possibly over several pages), not with the question: it only pays when it
 * replaces several requests.
 */
const TAG_LIST_MIN_TAGS = 4
/**
 * A tag list is read for at most one page per two tags asked (and never more than 10 pages); past that, HEADs for the
 * tags not seen yet are the cheaper way, and they are what is done.
 */
const MAX_TAG_PAGES = 10

/** Parsed references kept per prober (a repeated probe of the same string parses nothing). */
const REFERENCE_CACHE_SIZE = 512

interface Target {
  ref: ImageReference
  /** `formatReference(ref)`, the answers' `reference`. */
  reference: string
}

/** Creates a prober that shares connections, tokens and credentials across its probes. Call `close()` when done. */
export function createProbe(options: ProbeOptions = {}): Prober {
  const client = createClient(options)
  const { transport, debug, timeoutMs, tagListPageSize: pageSize } = client
  const defaultConcurrency = client.concurrency

  const targets = new Map<string, Target>()
  function target(input: string | ImageReference): Target {
    if (typeof input !== 'string') return { ref: input, reference: formatReference(input) }
    let t = targets.get(input)
    if (t === undefined) {
      const ref = parseReference(input)
      if (targets.size >= REFERENCE_CACHE_SIZE) targets.clear()
      targets.set(input, (t = { ref, reference: formatReference(ref) }))
    }
    return t
  }

  function timeoutOf(request: ProbeRequestOptions): number {
    return request.timeoutMs === undefined
      ? timeoutMs
      : checkPositive(request.timeoutMs, 'timeoutMs')
  }

  /** One probe, answering by `deadline` at the latest (epoch ms; `limit` is what the messages call the timeout). */
  function probeTarget(
    { ref, reference }: Target,
    wanted: Platform[] | undefined,
    deadline: number,
    limit: number,
    signal: AbortSignal | undefined,
  ): Promise<ProbeResult> {
    return underDeadline(
      deadline,
      signal,
      (cancel) => new ProbeSession(ref, client, cancel, deadline).probe(reference, wanted),
      (aborted) => ({
        status: 'unknown',
        reference,
        reason: 'timeout',
        message: aborted
          ? 'The probe was aborted'
          : `No answer from registry "${ref.registry}" within ${limit} ms`,
      }),
      (e) => ({ status: 'unknown', reference, reason: e.reason, message: e.message }),
    )
  }

  function probe(
    input: string | ImageReference,
    request: ProbeRequestOptions = {},
  ): Promise<ProbeResult> {
    try {
      const t = target(input)
      const wanted = request.platforms?.map(parsePlatform)
      const limit = timeoutOf(request)
      return probeTarget(t, wanted, Date.now() + limit, limit, request.signal)
    } catch (e) {
      return Promise.reject(e)
    }
  }

  async function probeMany(
    refs: readonly (string | ImageReference)[],
    request: ProbeManyOptions = {},
  ): Promise<ExistenceResult[]> {
    const all = refs.map(target) // all bad references and options fail before anything is sent
    const wanted = request.platforms?.map(parsePlatform)
    const limit = timeoutOf(request)
    const { signal } = request
    const withDigests = request.digests ?? true
    const { default: pLimit } = await import('p-limit') // loaded here: a one-probe process never needs it
    const slot = pLimit(checkPositive(request.concurrency ?? defaultConcurrency, 'concurrency'))
    const answers: Promise<ExistenceResult>[] = new Array(all.length)

    // Tag references by repository: a group with enough different tags is asked through its tag list.
    const groups = new Map<string, number[]>()
    all.forEach(({ ref }, i) => {
      if (ref.digest !== undefined || !(request.tagList ?? !withDigests)) return
      const key = `${ref.registry}/${ref.repository}`
      const group = groups.get(key)
      if (group) group.push(i)
      else groups.set(key, [i])
    })
    for (const group of groups.values()) {
      const tags = new Set(group.map((i) => all[i]!.ref.tag!))
      if (tags.size < TAG_LIST_MIN_TAGS) continue
      // A reference's time is its share of the list plus its own HEAD (time queued for a slot aside, as for any
      // reference): together at most `limit`. The list may use half of it, so a list that does not answer still leaves
      // time for the HEADs that replace it.
      let listMs = 0
      const listing = slot(async () => {
        const start = Date.now()
        const list = await listTags(all[group[0]!]!, tags, start + limit / 2, signal)
        listMs = Date.now() - start
        return list
      })
      for (const i of group) {
        const t = all[i]!
        answers[i] = listing.then((list): ExistenceResult | Promise<ExistenceResult> => {
          const tag = t.ref.tag!
          if (list?.present.has(tag)) {
            if (!withDigests && !wanted) return { status: 'exists', reference: t.reference }
          } else if (list?.complete) return { status: 'missing', reference: t.reference }
          return slot(() => probeTarget(t, wanted, Date.now() + limit - listMs, limit, signal))
        })
      }
    }
    all.forEach((t, i) => {
      answers[i] ??= slot(() => probeTarget(t, wanted, Date.now() + limit, limit, signal))
    })
    return Promise.all(answers)
  }

  /**
   * Reads the tag list of the target's repository until every tag of `tags` was seen or the list ends. `undefined` when
   * the list could not be had (refused, failed, timed out): the references then take the HEAD path.
   */
  function listTags(
    { ref }: Target,
    tags: Set<string>,
    deadline: number,
    signal: AbortSignal | undefined,
  ): Promise<TagList | undefined> {
    const maxPages = Math.min(MAX_TAG_PAGES, Math.ceil(tags.size / 2))
    return underDeadline(
      deadline,
      signal,
      (cancel) =>
        new TagListSession(ref, client, cancel, deadline).tagList(tags, maxPages, pageSize),
      (aborted) => {
        debug(
          `tag list of ${ref.registry}/${ref.repository}: ${aborted ? 'aborted' : 'no answer in time'}, probing each tag`,
        )
        return undefined
      },
      (e) => {
        debug(`tag list of ${ref.registry}/${ref.repository}: ${e.message}; probing each tag`)
        return undefined
      },
    )
  }

  return {
    probe,
    probeMany: probeMany as Prober['probeMany'],
    close: () => transport.close(),
  }
}

/** One-shot convenience: creates a prober, probes `ref` once and closes it. */
export async function probeImage(
  ref: string | ImageReference,
  options: ProbeOptions & ProbeRequestOptions = {},
): Promise<ProbeResult> {
  const prober = createProbe(options)
  try {
    return await prober.probe(ref, options)
  } finally {
    prober.close()
  }
}
