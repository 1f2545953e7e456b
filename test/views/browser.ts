import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { requireTool } from "../support/tools.js";

/** Debian's Chromium (installed by scripts/install-test-deps.sh), or CHROMIUM_BIN. */
export function findChromium(): string | undefined {
  const env = process.env.CHROMIUM_BIN;
  if (env) return existsSync(env) ? env : undefined;
  return ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** The started browser, or undefined after skipping the test (outside CI) or throwing (in CI). */
export function needBrowser(t: TestContext, browser: Browser | undefined): Browser | undefined {
  return requireTool(t, "chromium", browser ? "found" : undefined, "sudo bash scripts/install-test-deps.sh")
    ? browser
    : undefined;
}

/** Chromium headless with a fresh profile. */
export async function launchChromium(exe: string): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), "wva-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: exe,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Console errors and uncaught exceptions of a page, collected from now on. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(e.message));
  return errors;
}

/** One chart as the page drew it: its labels and raw (unstacked) series, x first. */
export interface ChartData {
  id: string;
  labels: string[];
  raw: Array<Array<number | null>>;
  marks: Array<{ t: number }>;
  points: string | null;
}

// evaluated in the page (the test code is compiled without the DOM types)
const READ_CHARTS = `window.wvaCharts.map((c) => ({
  id: c.id,
  labels: c.labels,
  raw: c.raw,
  marks: c.marks,
  points: document.querySelector('figure[data-chart="' + CSS.escape(c.id) + '"]').getAttribute("data-points"),
}))`;

export function chartsOf(page: Page): Promise<ChartData[]> {
  return page.evaluate(READ_CHARTS) as Promise<ChartData[]>;
}
