// Public API of @imagespec/docker.
export {}
