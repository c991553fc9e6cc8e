/** `{ K: V }` as Docker's `Env` list, `["K=V", …]`. */
export const toEnvList = (env: Record<string, string>): string[] => Object.entries(env).map(([k, v]) => `${k}=${v}`);

/** `["K=V", …]` (Docker's `Config.Env`) as a record; the value is everything after the first `=`. */
export const fromEnvList = (list: string[]): Record<string, string> =>
  Object.fromEntries(list.map((e) => (e.includes('=') ? [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)] : [e, ''])));
