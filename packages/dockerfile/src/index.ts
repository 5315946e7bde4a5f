// Public API of @imagespec/dockerfile.
export {}
