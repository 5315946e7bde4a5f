// The builder plugin contract and build event/request types. Owned by the docker/builder work.
export {}
