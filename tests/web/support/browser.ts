/**
 * Browser tests' support: Debian's Chromium driven by playwright-core (never a downloaded
 * browser), a fresh profile per launch, and the steps every chat test starts with. Screenshots
 * go to test-results/web/ (gitignored; README names it).
 */
import { mkdtemp, mkdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Locator, type Page } from "playwright-core";
import { expect } from "vitest";

export const CHROMIUM = "/usr/bin/chromium";
export const SCREENSHOTS = join(import.meta.dirname, "../../../test-results/web");

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Chromium with a throwaway profile; no network beyond loopback is ever requested. */
export async function launchChromium(): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), "chromium-profile-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    // No drawer animation: screenshots show the finished state, not a frame of the slide.
    reducedMotion: "reduce",
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
    close: async () => {
      await context.close().catch(() => undefined);
      await rm(profile, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: false });
  return path;
}

/** Opens the page and signs out whoever the shared profile has signed in, ending on the sign-in form. */
export async function signOut(page: Page, webUrl: string): Promise<void> {
  await page.goto(webUrl);
  const signInHeading = page.getByRole("heading", { name: "Sign in" });
  const signOutButton = page.getByRole("button", { name: "Sign out" });
  await signInHeading.or(signOutButton).first().waitFor({ timeout: 30_000 });
  if (await signOutButton.isVisible()) await signOutButton.click();
  await signInHeading.waitFor();
}

/** Signs in with an e-mail address and password typed into the form. */
export async function signIn(page: Page, webUrl: string, username: string, password: string): Promise<void> {
  if (page.url() !== `${webUrl}/`) await page.goto(webUrl);
  await page.getByLabel("E-mail address").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await connected(page);
}

/** Signs in as a demo user by picking them from the list the sign-in page shows. */
export async function signInAsDemoUser(page: Page, webUrl: string, username: string): Promise<void> {
  await page.goto(webUrl);
  await expect.poll(() => page.getByRole("heading", { name: "Sign in" }).isVisible()).toBe(true);
  await page.getByRole("button", { name: username, exact: true }).click();
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await connected(page);
}

/** The connection banner says connected and the model list has arrived. */
export async function connected(page: Page): Promise<void> {
  // Connected, the banner keeps only a visually hidden "Connected" for screen readers.
  await page.locator(".connection-banner.connected").waitFor({ state: "attached", timeout: 30_000 });
  await page.locator(".model-picker select:not([disabled])").waitFor({ timeout: 30_000 });
}

/** Types a message and sends it with Enter (the keyboard path); returns the new answer. */
export async function send(page: Page, text: string): Promise<Locator> {
  const before = await page.locator("article.message.assistant").count();
  await page.getByRole("textbox", { name: "Message" }).fill(text);
  await page.getByRole("textbox", { name: "Message" }).press("Enter");
  const answer = page.locator("article.message.assistant").nth(before);
  await answer.waitFor();
  return answer;
}

export function status(answer: Locator): Promise<string | null> {
  return answer.getAttribute("data-status");
}

export async function waitForStatus(answer: Locator, ...statuses: string[]): Promise<void> {
  await expect.poll(() => status(answer), { timeout: 30_000 }).toSatisfy((s: string | null) => statuses.includes(s ?? ""));
}
