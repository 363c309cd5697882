/**
 * The chat UI in Chromium against the gateway's metering, conversations and cancel: the usage
 * panel (on load from `usage`, after each turn from `done.quota`, amber at 75%, red at 90%), a
 * limit refusal that says when the limit resets, the conversations sidebar, reopening a
 * conversation from its `history`, delete, both kinds of paging (`nextCursor`), and Stop
 * through the gateway's `cancel`. chat-ui.test.ts covers the rest of the UI.
 *
 * The gateway runs a copy of the dev stack whose default tier has a 100-token daily output
 * budget, so usage crosses 75% and 90% and a refusal follows within a few turns.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { randomUUID } from "node:crypto";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { ConversationStore } from "../../functions/lib/conversations/store.js";
import { HISTORY_PAGE_TURNS } from "../../functions/lib/conversations/actions.js";
import { CONVERSATIONS_PAGE } from "../../functions/lib/conversations/store.js";
import type { OutboundEvent } from "../../functions/lib/protocol/outbound.js";
import { LOCAL_CREDENTIALS } from "../../local/dynamodb.js";
import { createUser, startTestGateway, type TestGateway } from "../e2e/support/gateway.js";
import { type Browser, launchChromium, screenshot, send, signIn, signInAsDemoUser, signOut, waitForStatus } from "./support/browser.js";

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

/** What the gateway published to users, in order. */
function outbound(): OutboundEvent[] {
  return t.gateway.events.published
    .filter((record) => record.channel.startsWith("/Outbound-Messages/"))
    .flatMap((record) => record.events.map((e) => (typeof e.payload === "string" ? JSON.parse(e.payload) : e.payload) as OutboundEvent));
}

async function atPhoneWidth(p: Page, name: string, openDrawer = false): Promise<void> {
  await p.setViewportSize({ width: 390, height: 844 });
  if (openDrawer) {
    await p.getByRole("button", { name: "Conversations and usage" }).click();
    await p.getByRole("button", { name: "+ New chat" }).waitFor();
  }
  await screenshot(p, name);
  if (openDrawer) await p.keyboard.press("Escape");
  await p.setViewportSize({ width: 1280, height: 800 });
}
const outputBar = (p: Page) => p.getByRole("region", { name: "Last 24 hours" }).getByRole("meter", { name: /^Output tokens/ });

describe("chat UI in Chromium: usage, conversations, cancel", () => {
  it("shows usage on load and after each turn, reopens and deletes conversations, and shows a limit refusal", async () => {
    await signInAsDemoUser(page, t.endpoints.webUrl!, user("default").username);

    // `usage` answers on load with the tier and both windows.
    await expect.poll(() => page.locator(".usage-panel").textContent()).toContain("tier default");
    expect(await outputBar(page).getAttribute("aria-valuemax")).toBe("100");
    expect(await outputBar(page).getAttribute("aria-valuenow")).toBe("0");

    // done.quota refreshes the panel; 80 of 100 is amber.
    const first = await send(page, "First question [[fake:tokens=80]]");
    await waitForStatus(first, "done");
    await expect.poll(() => outputBar(page).getAttribute("aria-valuenow")).toBe("80");
    expect(await outputBar(page).getAttribute("data-level")).toBe("warning");
    await screenshot(page, "desktop-usage-amber");
    const firstAnswer = (await first.locator(".message-text").textContent())!;

    // The turn appears in the sidebar.
    await expect.poll(() => page.locator(".conversation-list li").count()).toBe(1);

    // 92 of 100 is red.
    const second = await send(page, "Second one [[fake:tokens=12]]");
    await waitForStatus(second, "done");
    await expect.poll(() => outputBar(page).getAttribute("data-level")).toBe("critical");
    await screenshot(page, "desktop-usage");
    await atPhoneWidth(page, "phone-usage", true);

    // A new chat, then reopening the first conversation loads its history.
    await page.getByRole("button", { name: "+ New chat" }).click();
    const other = await send(page, "Another conversation [[fake:tokens=3]]");
    await waitForStatus(other, "done");
    const otherId = (await other.getAttribute("data-request-id"))!;
    await expect.poll(() => page.locator(".conversation-list li").count()).toBe(2);
    await page.locator(".conversation-list li").nth(1).locator(".conversation-open").click();
    await expect.poll(() => page.locator("article.message.user").first().textContent()).toContain("First question");
    expect(await page.locator("article.message.assistant").first().locator(".message-text").textContent()).toBe(firstAnswer);
    expect(await page.locator("article.message").count()).toBe(4);

    // Delete the other conversation after confirming: it leaves the list, and the gateway deleted it.
    const otherDone = outbound().find((e): e is Extract<OutboundEvent, { type: "done" }> => e.requestId === otherId && e.type === "done")!;
    const otherConversation = otherDone.conversationId;
    page.once("dialog", (dialog) => void dialog.accept());
    await page.locator(".conversation-list li").first().getByRole("button", { name: 'Delete "Another conversation [[fake:tokens=3]]"' }).click();
    await expect.poll(() => page.locator(".conversation-list li").count()).toBe(1);
    await expect.poll(() => outbound().some((e) => e.type === "deleteConversation" && e.conversationId === otherConversation && e.deleted)).toBe(true);
    await page.reload();
    await expect.poll(() => page.locator(".conversation-list .title").allTextContents()).toEqual(["First question [[fake:tokens=80]]"]);

    // Once the budget is spent, the refusal says when it resets.
    let refusal = "";
    for (let turn = 0; turn < 4 && !refusal; turn++) {
      const answer = await send(page, `Spend the rest ${turn} [[fake:tokens=50]]`);
      await waitForStatus(answer, "done", "failed");
      if ((await answer.getAttribute("data-status")) === "failed") refusal = (await answer.getByRole("alert").textContent()) ?? "";
    }
    expect(refusal).toMatch(/^You have used up your 24-hour token allowance\. It resets in .+ \(at .+\)\.$/);
    // The panel shows the spent budget too (asked again after the refusal).
    await expect.poll(() => outputBar(page).getAttribute("aria-valuenow")).toBe("100");
    await screenshot(page, "desktop-limit");
    await atPhoneWidth(page, "phone-limit");
  });

  it("stops an answer through the gateway: Stopping… until the cancel is acknowledged and the answer ends with stopReason cancelled", async () => {
    const pro = await browser.context.newPage();
    await signOut(pro, t.endpoints.webUrl!);
    await signInAsDemoUser(pro, t.endpoints.webUrl!, user("pro").username);
    const long = await send(pro, "A long one [[fake:tokens=400,rate=20]]");
    await waitForStatus(long, "streaming");
    await pro.getByRole("button", { name: "Stop" }).click();
    await expect.poll(() => pro.getByRole("button", { name: /^Stop/ }).textContent()).toBe("Stopping…");
    await waitForStatus(long, "cancelled");
    expect(await long.locator(".message-status").textContent()).toBe("Stopped.");
    await screenshot(pro, "desktop-stopped");
    // Stopped by the gateway, not only hidden here: acknowledged, then done with stopReason cancelled.
    const requestId = (await long.getAttribute("data-request-id"))!;
    const events = outbound();
    expect(events.find((e) => e.type === "cancel" && e.targetRequestId === requestId)).toMatchObject({ status: "cancelling" });
    const done = events.find((e) => e.requestId === requestId && e.type === "done");
    expect(done).toMatchObject({ stopReason: "cancelled" });
    expect(done!.type === "done" && done!.usage.outputTokens).toBeLessThan(400);
    // The shown text is what was streamed until the stop, and Send is back.
    const streamed = events.filter((e) => e.requestId === requestId && e.type === "delta").map((e) => (e.type === "delta" ? e.text : "")).join("");
    expect((await long.locator(".message-text").textContent())!.replace(/\s+/g, " ").trim()).toBe(streamed.replace(/\s+/g, " ").trim());
    expect(await pro.getByRole("button", { name: "Send" }).isVisible()).toBe(true);
    await atPhoneWidth(pro, "phone-stopped");
    await pro.close();
  });

  it("pages older conversations and earlier turns, and shows stopped, prepared and shortened answers from history", async () => {
    // A user with more conversations than one page and a conversation longer than one history page.
    const owner = await createUser(t, "pager@example.com");
    const dynamodb = new DynamoDBClient({ endpoint: t.gateway.dynamodb.endpoint, region: t.gateway.region, credentials: LOCAL_CREDENTIALS });
    let clock = Date.now() - 3600_000;
    const store = new ConversationStore({ dynamodb, tableName: t.gateway.dynamodb.tables.conversations!, ttlDays: 30, now: () => (clock += 1000) });
    const turn = (n: number, extra = {}) => ({
      requestId: randomUUID(),
      at: new Date(clock).toISOString(),
      userText: `Question ${n}`,
      assistantText: `Answer ${n}`,
      modelId: "us.amazon.nova-lite-v1:0",
      stopReason: "end_turn",
      ...extra,
    });
    const olderCount = CONVERSATIONS_PAGE + 1;
    const longTurns = HISTORY_PAGE_TURNS + 1;
    try {
      for (let n = 0; n < olderCount; n++) await store.appendTurn(owner.sub, randomUUID(), { ...turn(n), userText: `Old topic ${n}` }, true);
      const longId = randomUUID();
      for (let n = 0; n < longTurns; n++) {
        const flags = n === 0 ? { cached: true } : n === longTurns - 2 ? { cancelled: true } : n === longTurns - 1 ? { truncated: true } : {};
        await store.appendTurn(owner.sub, longId, turn(n, flags), n === 0);
      }
    } finally {
      dynamodb.destroy();
    }

    const p = await browser.context.newPage();
    await signOut(p, t.endpoints.webUrl!);
    await signIn(p, t.endpoints.webUrl!, "pager@example.com", "Test-User-Passw0rd!");
    const items = p.locator(".conversation-list li");
    await expect.poll(() => items.count()).toBe(CONVERSATIONS_PAGE);
    await p.getByRole("button", { name: "Show older conversations" }).click();
    await expect.poll(() => items.count()).toBe(olderCount + 1);
    expect(await p.getByRole("button", { name: "Show older conversations" }).count()).toBe(0);
    expect(await items.last().locator(".title").textContent()).toBe("Old topic 0");

    // The long conversation (the newest) opens on its newest page; the one before it loads above.
    await items.first().locator(".conversation-open").click();
    const messages = p.locator("article.message");
    await expect.poll(() => messages.count()).toBe(2 * HISTORY_PAGE_TURNS);
    expect(await messages.first().textContent()).toContain("Question 1");
    const newest = p.locator("article.message.assistant").last();
    expect(await newest.locator(".message-status").textContent()).toBe("Only the beginning of this answer was kept.");
    const stopped = p.locator("article.message.assistant").nth(HISTORY_PAGE_TURNS - 2);
    expect((await stopped.locator(".message-text").textContent())?.trim()).toBe(`Answer ${longTurns - 2}`);
    expect(await stopped.locator(".message-status").textContent()).toBe("Stopped.");
    await p.getByRole("button", { name: "Show earlier messages" }).click();
    await expect.poll(() => messages.count()).toBe(2 * longTurns);
    expect(await messages.first().textContent()).toContain("Question 0");
    expect(await p.locator("article.message.assistant").first().locator(".tag").textContent()).toBe("prepared answer");
    expect(await p.getByRole("button", { name: "Show earlier messages" }).count()).toBe(0);
    await screenshot(p, "desktop-history");

    // The list stays whole after a turn refreshes its first page.
    const reply = await send(p, "One more [[fake:tokens=2]]");
    await waitForStatus(reply, "done");
    await expect.poll(() => items.count()).toBe(olderCount + 1);
    expect(await items.first().locator(".title").textContent()).toBe("Question 0");
    await p.close();
  });
});
