// InstallPlan and build-context data types, shared by installers, dockerfile and builder.
// Owned by the dockerfile/installers work; placeholder until then.
export {}
