import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Next } from 'koa';
import { NodeError } from '@nodes/core';

/**
 * Who may call the server. Browsers are the threat the defaults answer: any page the user visits can send
 * requests to a loopback port, and with DNS rebinding read the answers. Non-browser clients (curl, the SDKs)
 * send no `Origin` and pass unless a token is set.
 */
export interface AccessOptions {
  /**
   * Origins (`scheme://host[:port]`, as browsers send them) whose pages may call, besides the server's own
   * origin. Default none: a request with any other `Origin` is refused with 403.
   */
  allowedOrigins?: readonly string[];
  /**
   * Names accepted in the `Host` header besides `localhost`, `127.0.0.1`, `[::1]` and the address the request
   * arrived on (those with the listening port). `name` accepts any port, `name:port` that port only.
   */
  allowedHosts?: readonly string[];
  /** When set, every request needs `Authorization: Bearer <token>` (compared in constant time), else 401. */
  token?: string;
}

/** A caller the server does not serve: 403 `forbidden` (origin, host) or 401 `unauthorized` (token). */
export class AccessError extends NodeError {
  override readonly name = 'AccessError';
  constructor(code: 'forbidden' | 'unauthorized', message: string) {
    super(code, message);
  }
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

/** `host[:port]` split, IPv6 in brackets kept as the name (`[::1]:8080` -> `[::1]`, `8080`). */
function splitHost(value: string): { name: string; port?: string } {
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(value.trim().toLowerCase());
  return m ? { name: m[1]!.replace(/\.$/, ''), port: m[2] } : { name: '\0' };
}

/** The address a socket arrived on, as a `Host` would name it (`::ffff:10.0.0.2` -> `10.0.0.2`, `::1` -> `[::1]`). */
function hostNameOf(address: string | undefined): string | undefined {
  if (!address) return undefined;
  const v4 = address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  return v4.includes(':') ? `[${v4}]` : v4;
}

/** An origin as browsers send it, or undefined when the text is not one (`http://a.b:8080/` -> `http://a.b:8080`). */
export function normalizeOrigin(text: string): string | undefined {
  try {
    const url = new URL(text.trim());
    return url.origin === 'null' ? undefined : url.origin;
  } catch {
    return undefined;
  }
}

/** True when the request's `Host` names this server: a loopback name or the address it arrived on, or a configured name. */
function hostAllowed(ctx: Context, allowedHosts: readonly string[]): boolean {
  const header = ctx.req.headers.host;
  if (!header) return false;
  const { name, port } = splitHost(header);
  const localPort = String(ctx.req.socket.localPort ?? '');
  const samePort = port === localPort || (port === undefined && localPort === '80');
  const local = hostNameOf(ctx.req.socket.localAddress);
  if (samePort && (LOOPBACK_NAMES.includes(name) || name === local)) return true;
  return allowedHosts.some((entry) => {
    const allowed = splitHost(entry);
    return allowed.name === name && (allowed.port === undefined || allowed.port === (port ?? '80'));
  });
}

/**
 * Refuses, before anything else runs, requests a browser page could forge: a `Host` that is not this server
 * (DNS rebinding), an `Origin` that is neither the server's own nor allowed, and a cross-site request without
 * `Origin` (`Sec-Fetch-Site`). Answers 403 `forbidden`.
 */
export function checkCaller(options: AccessOptions) {
  const allowedOrigins = new Set((options.allowedOrigins ?? []).map((o) => normalizeOrigin(o) ?? o));
  const allowedHosts = options.allowedHosts ?? [];
  return async (ctx: Context, next: Next): Promise<void> => {
    if (!hostAllowed(ctx, allowedHosts)) {
      const shown = (ctx.req.headers.host ?? '').slice(0, 100);
      throw new AccessError(
        'forbidden',
        `Host "${shown}" is not this server: call it as localhost, 127.0.0.1 or [::1] with its port, or add the name to NODES_ALLOWED_HOSTS`,
      );
    }
    const origin = ctx.req.headers.origin;
    if (origin !== undefined) {
      const own = [`http://${ctx.req.headers.host}`, `https://${ctx.req.headers.host}`].map((o) => normalizeOrigin(o));
      const normalized = normalizeOrigin(origin);
      if (!normalized || !(allowedOrigins.has(normalized) || own.includes(normalized))) {
        throw new AccessError('forbidden', `Origin "${origin.slice(0, 100)}" may not call this server: add it to NODES_ALLOWED_ORIGINS to allow its pages`);
      }
    } else if (['cross-site', 'same-site'].includes(ctx.get('Sec-Fetch-Site'))) {
      throw new AccessError('forbidden', 'a cross-site request without Origin may not call this server');
    }
    await next();
  };
}

/** True when the request's `Origin` is one of the allowed ones (not merely the server's own). */
export function isAllowedCrossOrigin(options: AccessOptions, origin: string): boolean {
  const normalized = normalizeOrigin(origin);
  return normalized !== undefined && (options.allowedOrigins ?? []).some((o) => (normalizeOrigin(o) ?? o) === normalized);
}

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * With a token set, every request needs `Authorization: Bearer <token>`; the comparison runs in constant time
 * (over SHA-256 digests, so the token's length does not leak either). Answers 401 `unauthorized` with
 * `WWW-Authenticate: Bearer`.
 */
export function requireToken(token: string | undefined) {
  const expected = token === undefined ? undefined : digest(token);
  return async (ctx: Context, next: Next): Promise<void> => {
    if (expected) {
      const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(ctx.get('Authorization'));
      if (!m || !timingSafeEqual(digest(m[1]!), expected)) {
        ctx.set('WWW-Authenticate', 'Bearer realm="nodes"');
        throw new AccessError(
          'unauthorized',
          m ? 'the bearer token is not this server\'s' : 'this server needs "Authorization: Bearer <token>" (the token set in NODES_TOKEN or NODES_TOKEN_FILE)',
        );
      }
    }
    await next();
  };
}

/**
 * True when the request comes from a browser: it carries `Origin` or `Sec-Fetch-Site` (browsers send one or both
 * on every POST; Node's fetch sends `Sec-Fetch-Mode` only, so that one does not count).
 */
export function fromBrowser(ctx: Context): boolean {
  return ctx.req.headers.origin !== undefined || ctx.req.headers['sec-fetch-site'] !== undefined;
}
