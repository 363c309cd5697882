/**
 * PENDING MERGE: the browser steps that need protocol actions other branches are adding.
 * Rename this file to `chat-ui.after-merge.test.ts` once `metering` (usage, done.quota,
 * limit_exceeded) and `convo` (conversations, history, deleteConversation, cancel) are merged.
 * Which step needs which branch is written beside it.
 *
 * The gateway runs a copy of the dev stack whose default tier has a 100-token daily output
 * budget, so usage crosses 75% and 90% and a refusal follows within a few turns.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { startTestGateway, type TestGateway } from "../e2e/support/gateway.js";
import { type Browser, launchChromium, screenshot, send, signInAsDemoUser, waitForStatus } from "./support/browser.js";

const ROOT = join(import.meta.dirname, "../..");
let projectDir: string;
let t: TestGateway;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  projectDir = await mkdtemp(join(tmpdir(), "web-limits-"));
  await cp(join(ROOT, "Pulumi.yaml"), join(projectDir, "Pulumi.yaml"));
  const stack = parse(await readFile(join(ROOT, "Pulumi.dev.yaml"), "utf8"));
  stack.config["ai-gateway:tiers"].default.limits.daily.outputTokens = 100;
  await writeFile(join(projectDir, "Pulumi.dev.yaml"), stringify(stack));
  t = await startTestGateway({ projectDir });
  browser = await launchChromium();
  page = await browser.context.newPage();
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
  await rm(projectDir, { recursive: true, force: true });
});

const user = (tier: string) => t.endpoints.users.find((u) => u.tier === tier)!;
const outputBar = (p: Page) => p.getByRole("region", { name: "Last 24 hours" }).getByRole("meter", { name: /^Output tokens/ });

describe("chat UI in Chromium, after the metering and convo merges", () => {
  it("shows usage on load and after each turn, reopens and deletes conversations, and shows a limit refusal", async () => {
    await signInAsDemoUser(page, t.endpoints.webUrl!, user("default").username);

    // metering: `usage` answers on load with the tier and both windows.
    await expect.poll(() => page.locator(".usage-panel").textContent()).toContain("tier default");
    expect(await outputBar(page).getAttribute("aria-valuemax")).toBe("100");
    expect(await outputBar(page).getAttribute("aria-valuenow")).toBe("0");

    // metering: done.quota refreshes the panel; 80 of 100 is amber.
    const first = await send(page, "First question [[fake:tokens=80]]");
    await waitForStatus(first, "done");
    await expect.poll(() => outputBar(page).getAttribute("aria-valuenow")).toBe("80");
    expect(await outputBar(page).getAttribute("data-level")).toBe("warning");
    const firstAnswer = (await first.locator(".message-text").textContent())!;

    // convo: the turn appears in the sidebar.
    await expect.poll(() => page.locator(".conversation-list li").count()).toBe(1);

    // metering: 92 of 100 is red.
    const second = await send(page, "Second one [[fake:tokens=12]]");
    await waitForStatus(second, "done");
    await expect.poll(() => outputBar(page).getAttribute("data-level")).toBe("critical");
    await screenshot(page, "desktop-usage");

    // convo: a new chat, then reopening the first conversation loads its history.
    await page.getByRole("button", { name: "+ New chat" }).click();
    const other = await send(page, "Another conversation [[fake:tokens=3]]");
    await waitForStatus(other, "done");
    await expect.poll(() => page.locator(".conversation-list li").count()).toBe(2);
    await page.locator(".conversation-list li").nth(1).locator(".conversation-open").click();
    await expect.poll(() => page.locator("article.message.user").first().textContent()).toContain("First question");
    expect(await page.locator("article.message.assistant").first().locator(".message-text").textContent()).toBe(firstAnswer);
    expect(await page.locator("article.message").count()).toBe(4);

    // convo: delete the other conversation; it leaves the list.
    page.once("dialog", (dialog) => void dialog.accept());
    await page.locator(".conversation-list li").first().getByRole("button", { name: /^Delete/ }).click();
    await expect.poll(() => page.locator(".conversation-list li").count()).toBe(1);

    // metering: once the budget is spent, the refusal says when it resets.
    let refusal = "";
    for (let turn = 0; turn < 4 && !refusal; turn++) {
      const answer = await send(page, `Spend the rest ${turn} [[fake:tokens=50]]`);
      await waitForStatus(answer, "done", "failed");
      if ((await answer.getAttribute("data-status")) === "failed") refusal = (await answer.getByRole("alert").textContent()) ?? "";
    }
    expect(refusal).toMatch(/^You have used up your .*token allowance\. It resets in .+ \(at .+\)\.$/);
    await screenshot(page, "desktop-limit");
  });

  it("stops an answer on the gateway (convo: cancel ends it with stopReason cancelled)", async () => {
    const pro = await browser.context.newPage();
    await pro.goto(t.endpoints.webUrl!);
    await pro.getByRole("button", { name: "Sign out" }).click();
    await signInAsDemoUser(pro, t.endpoints.webUrl!, user("pro").username);
    const long = await send(pro, "A long one [[fake:tokens=400,rate=20]]");
    await waitForStatus(long, "streaming");
    await pro.getByRole("button", { name: "Stop" }).click();
    await waitForStatus(long, "cancelled");
    // Stopped by the gateway, not only hidden here.
    expect(await long.locator(".message-status").textContent()).toBe("Stopped.");
    await pro.close();
  });
});
