/**
 * Credentials for one registry, in the shape of Docker's `AuthConfig` minus the server address. A registry probe
 * sends them (Basic or Bearer), and the Docker driver hands them to the engine and to BuildKit.
 */
export interface RegistryCredentials {
  username?: string
  password?: string
  /** An OAuth2 refresh token (`identitytoken` in config.json; a helper's secret when its username is `<token>`). */
  identityToken?: string
  /** A bearer token sent to the registry as is (`registrytoken` in config.json). */
  registryToken?: string
}
