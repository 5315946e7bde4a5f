// Public API of @imagespec/cli.
export {}
