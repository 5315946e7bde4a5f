// Public API of @imagespec/installers.
export {}
