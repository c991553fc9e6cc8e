import ora from 'ora';

/** How long an operation runs before a spinner shows (ms): quick ones print nothing extra. */
export const SPINNER_AFTER_MS = 1000;

/**
 * Awaits `work`, showing a spinner with `text` on stderr once it has run for `SPINNER_AFTER_MS`, only on a
 * terminal and never with `--json` (scripts read stdout; stderr stays clean for them too).
 */
export async function withSpinner<T>(text: string, work: Promise<T>, quiet = false): Promise<T> {
  if (quiet || !process.stderr.isTTY) return work;
  const spinner = ora({ text, stream: process.stderr });
  const timer = setTimeout(() => spinner.start(), SPINNER_AFTER_MS);
  try {
    return await work;
  } finally {
    clearTimeout(timer);
    if (spinner.isSpinning) spinner.stop();
  }
}
