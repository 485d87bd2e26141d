/**
 * The environment that points every common tool at the in-sandbox proxy
 * listeners. `NO_PROXY` is set empty on purpose: nothing bypasses the proxy
 * (there is no route anyway; this only avoids confusing direct attempts).
 */

/** Where the listeners live inside the sandbox's own network namespace. */
export const SANDBOX_PROXY_HOST = '127.0.0.1';

export function proxyEnvironment(httpPort: number, socksPort: number): Record<string, string> {
  const http = `http://${SANDBOX_PROXY_HOST}:${httpPort}`;
  const socks = `socks5h://${SANDBOX_PROXY_HOST}:${socksPort}`;
  return {
    HTTP_PROXY: http,
    HTTPS_PROXY: http,
    http_proxy: http,
    https_proxy: http,
    ALL_PROXY: socks,
    all_proxy: socks,
    NO_PROXY: '',
    no_proxy: '',
    // Node 24+ honours HTTP(S)_PROXY in fetch/http when this is set.
    NODE_USE_ENV_PROXY: '1',
    // npm, yarn, pnpm (npm_config_*), pip, cargo, global-agent (Node), Electron downloads.
    npm_config_proxy: http,
    npm_config_https_proxy: http,
    npm_config_noproxy: '',
    YARN_HTTP_PROXY: http,
    YARN_HTTPS_PROXY: http,
    PIP_PROXY: http,
    CARGO_HTTP_PROXY: http,
    GLOBAL_AGENT_HTTP_PROXY: http,
    GLOBAL_AGENT_HTTPS_PROXY: http,
    GLOBAL_AGENT_NO_PROXY: '',
    ELECTRON_GET_USE_PROXY: '1',
  };
}

/**
 * Variables that make common tools trust the CA bundle (system roots plus the
 * session CA of the egress proxy's TLS inspection) inside the sandbox only.
 * `caOnly` is a file with just the session CA, for tools that add to their
 * own roots rather than replace them (Node, Deno).
 */
export function trustEnvironment(bundle: string, caOnly: string): Record<string, string> {
  return {
    SSL_CERT_FILE: bundle, // OpenSSL (curl, wget, Python ssl, Ruby, git via OpenSSL)
    CURL_CA_BUNDLE: bundle,
    REQUESTS_CA_BUNDLE: bundle, // Python requests
    PIP_CERT: bundle,
    GIT_SSL_CAINFO: bundle,
    AWS_CA_BUNDLE: bundle,
    CARGO_HTTP_CAINFO: bundle,
    NODE_EXTRA_CA_CERTS: caOnly, // added to Node's built-in roots
    npm_config_cafile: bundle,
    YARN_CA_FILE_PATH: bundle,
    DENO_CERT: caOnly,
    BUNDLE_SSL_CA_CERT: bundle, // Bundler
    COMPOSER_CAFILE: bundle,
    HEX_CACERTS_PATH: bundle,
    GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: bundle,
    CLOUDSDK_CORE_CUSTOM_CA_CERTS_FILE: bundle,
  };
}
