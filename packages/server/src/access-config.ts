import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { AccessOptions } from './middleware/access.js';
import { normalizeOrigin } from './middleware/access.js';
import type { ServerEnv } from './config.js';

/** Shortest token accepted (characters): shorter ones can be guessed over the network. */
export const MIN_TOKEN_LENGTH = 16;

const HOW_TO_SET = 'for example NODES_TOKEN="$(openssl rand -hex 32)", or NODES_TOKEN_FILE=/path/to/a/file holding it';

/** A comma-separated env list, trimmed, without empty entries. */
const listOf = (text: string | undefined) => (text ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0);

/** True for an address only this machine can reach: `localhost`, 127.0.0.0/8, `::1`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/**
 * Who may call, from the environment: `NODES_ALLOWED_ORIGINS` and `NODES_ALLOWED_HOSTS` (comma-separated) and the
 * token of `NODES_TOKEN` or `NODES_TOKEN_FILE` (its content, trimmed).
 * @throws {Error} with a message saying what to set: both token variables set, an unreadable or short token,
 *   an origin that is not `scheme://host[:port]`, or a non-loopback `NODES_HOST` without a token.
 */
export function accessOptionsOf(env: ServerEnv): AccessOptions {
  // Empty variables count as unset, as for every other NODES_* variable.
  const tokenFile = env.NODES_TOKEN_FILE || undefined;
  let token = env.NODES_TOKEN?.trim() || undefined;
  if (token !== undefined && tokenFile !== undefined) throw new Error('set NODES_TOKEN or NODES_TOKEN_FILE, not both');
  if (tokenFile !== undefined) {
    try {
      token = readFileSync(tokenFile, 'utf8').trim();
    } catch (error) {
      throw new Error(`cannot read NODES_TOKEN_FILE ${tokenFile}: ${(error as Error).message}`);
    }
  }
  if (token !== undefined && token.length < MIN_TOKEN_LENGTH) {
    throw new Error(`the token is ${token.length} characters; use at least ${MIN_TOKEN_LENGTH}, ${HOW_TO_SET}`);
  }
  if (token !== undefined && !/^[\x21-\x7e]+$/.test(token)) {
    throw new Error('the token must be printable ASCII without spaces, as an Authorization header carries it');
  }
  if (!isLoopbackHost(env.NODES_HOST) && token === undefined) {
    throw new Error(
      `NODES_HOST=${env.NODES_HOST} is not a loopback address, so anyone who reaches it (nodes included) could run ` +
        `commands: set a token that callers send as "Authorization: Bearer <token>", ${HOW_TO_SET}`,
    );
  }
  const allowedOrigins = listOf(env.NODES_ALLOWED_ORIGINS).map((o) => {
    const origin = normalizeOrigin(o);
    if (!origin || o === '*') throw new Error(`NODES_ALLOWED_ORIGINS: "${o}" is not an origin such as https://dash.example:8443`);
    return origin;
  });
  return { token, allowedOrigins, allowedHosts: listOf(env.NODES_ALLOWED_HOSTS) };
}
