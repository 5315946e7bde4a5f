// Build progress events (BuildEvent) emitted by the docker driver and the builder. Owned by the docker work.
export {}
