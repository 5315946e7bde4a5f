import { ImagespecError, type BuilderPlugin } from '@imagespec/spec'
import { loadBuilder, type ModuleImporter } from './load-builder.js'

/** A registered builder and its priority. */
export interface RegisteredBuilder {
  plugin: BuilderPlugin
  priority: number
}

/**
 * flytekit's `ImageBuildEngine._REGISTRY`: builders by name with priorities (the highest answers a spec that names
 * none), plus modules loaded by specifier (a spec's `builder: ./my-builder.js` finds the plugin it loaded).
 */
export class BuilderRegistry {
  readonly entries = new Map<string, RegisteredBuilder>()
  private readonly aliases = new Map<string, string>()

  constructor(private readonly importModule?: ModuleImporter) {}

  /** Registers (or replaces) a builder; priority defaults to the plugin's, else 5 (flytekit's default). */
  register(plugin: BuilderPlugin, priority?: number): void {
    this.entries.set(plugin.name, { plugin, priority: priority ?? plugin.priority ?? 5 })
  }

  /** The builder for `name` (registered, else loaded from `fromDirs`), or the highest-priority one for no name. */
  async get(name: string | null | undefined, fromDirs: readonly string[]): Promise<BuilderPlugin> {
    if (!name) {
      if (this.entries.size === 0)
        throw new ImagespecError('E_BUILDER_NOT_FOUND', 'There is no image builder registered.')
      return [...this.entries.values()].reduce((a, b) => (b.priority > a.priority ? b : a)).plugin
    }
    const entry = this.entries.get(name) ?? this.entries.get(this.aliases.get(name) ?? '')
    if (entry) return entry.plugin
    return this.load(name, fromDirs)
  }

  /** Loads a builder module (package name or path) and registers it, under its name and the specifier. */
  async load(
    specifier: string,
    fromDirs: readonly string[],
    priority?: number,
  ): Promise<BuilderPlugin> {
    const plugin = await loadBuilder(specifier, fromDirs, undefined, this.importModule)
    this.register(plugin, priority)
    this.aliases.set(specifier, plugin.name)
    return plugin
  }
}
