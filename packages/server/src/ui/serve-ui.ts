import type { Context, Next } from 'koa';
import { DASHBOARD_JS } from './app-script.js';
import { DASHBOARD_HTML } from './page.js';

/** The page may load only its own script and talk only to its own server. */
const CSP = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * `GET /ui` (the dashboard page) and `GET /ui/app.js` (its script): static, holding no data, so they are
 * served before the token check; every call the page makes carries the token the user types in.
 */
export function serveUi() {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    if (ctx.path === '/ui' || ctx.path === '/ui/') {
      ctx.type = 'text/html; charset=utf-8';
      ctx.body = DASHBOARD_HTML;
    } else if (ctx.path === '/ui/app.js') {
      ctx.type = 'text/javascript; charset=utf-8';
      ctx.body = DASHBOARD_JS;
    } else {
      return next();
    }
    ctx.set('Content-Security-Policy', CSP);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Cache-Control', 'no-cache');
  };
}
