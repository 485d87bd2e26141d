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
