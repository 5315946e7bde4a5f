// Public API of @imagespec/registry.
export {}
