// The one place the builder reaches into @imagespec/spec's identity functions.
import { computeTag, imageName, type LoadedSpec, type SourceWalks } from '@imagespec/spec'

/** flytekit's `image_name()`: `[registry/]name:tag`, replaced by a builder's real name when one was recorded. */
export function imageNameOf(
  loaded: LoadedSpec,
  nameMap: ReadonlyMap<string, string> = new Map(),
  loadedModules?: readonly string[],
  sourceWalks?: SourceWalks,
): Promise<string> {
  return imageName(loaded, {
    resolveImageName: (n) => nameMap.get(n) ?? n,
    loadedModules,
    sourceWalks,
  })
}

/** The tag, computed afresh from the files (flytekit drops the cached tag before the tag-changed check). */
export function tagOf(loaded: LoadedSpec, loadedModules?: readonly string[]): Promise<string> {
  return computeTag(loaded, { loadedModules })
}
