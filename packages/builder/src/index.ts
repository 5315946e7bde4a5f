// Public API of @imagespec/builder.
export {}
