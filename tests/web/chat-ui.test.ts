/**
 * The chat UI in a real browser (Debian's Chromium) against `npm start`'s code path: the page
 * from `webUrl`, Cognito sign-in through Amplify against cognito-local, the Events traffic
 * through the web server's relay, the unchanged handlers and the fake model.
 *
 * This file: serving and origins, sign-in, streaming, the model selector, Stop, errors, New
 * chat, a lost publish resent under the same requestId, the reconnecting state, phone width.
 * chat-ui-features.test.ts (its own gateway with a small token budget): usage and limits,
 * the conversations sidebar, history and its paging, delete, Stop through `cancel`.
 */
import { get } from "node:http";
import type { WebSocketRoute } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import type { OutboundEvent } from "../../functions/lib/protocol/outbound.js";
import type { WebConfig } from "../../web/src/config.js";
import type { InboundRequest } from "../../functions/lib/protocol/inbound.js";
import { sendHttp } from "../../local/events/testing/fixture.js";
import { startTestGateway, type TestGateway } from "../e2e/support/gateway.js";
import { type Browser, connected, launchChromium, screenshot, send, signInAsDemoUser, status, waitForStatus } from "./support/browser.js";

let t: TestGateway;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  t = await startTestGateway();
  browser = await launchChromium();
  page = await browser.context.newPage();
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

const defaultUser = () => t.endpoints.users.find((u) => u.tier === "default")!;

/** The deltas the gateway published for one request, joined: what the page must show. */
function publishedAnswer(requestId: string): string {
  return t.gateway.events.published
    .filter((record) => record.channel.startsWith("/Outbound-Messages/"))
    .flatMap((record) => record.events.map((e) => (typeof e.payload === "string" ? JSON.parse(e.payload) : e.payload) as OutboundEvent))
    .filter((e): e is Extract<OutboundEvent, { type: "delta" }> => e.requestId === requestId && e.type === "delta")
    .sort((a, b) => a.seq - b.seq)
    .map((e) => e.text)
    .join("");
}

/** Chat requests that reached the gateway's inbound channels with this requestId. */
function inboundChats(requestId: string): InboundRequest[] {
  return t.gateway.events.published
    .filter((record) => record.channel.startsWith("/Inbound-Messages/"))
    .flatMap((record) => record.events.map((e) => (typeof e.payload === "string" ? JSON.parse(e.payload) : e.payload) as InboundRequest))
    .filter((request) => request.requestId === requestId);
}

const squash = (text: string) => text.replace(/\s+/g, " ").trim();

describe("chat UI in Chromium", () => {
  it("is served at webUrl with its config, security headers and only its own origin on the relay", async () => {
    expect(t.endpoints.webUrl).toMatch(/^http:\/\/localhost:\d+$/);
    const response = await fetch(`${t.endpoints.webUrl}/config.json`);
    const config = (await response.json()) as WebConfig;
    expect(config.events.realtimeEndpoint).toBe(`${t.endpoints.webUrl!.replace("http:", "ws:")}/event/realtime`);
    expect(config.cognito).toMatchObject({ userPoolId: t.endpoints.cognito.userPoolId, authFlow: "USER_PASSWORD_AUTH" });
    expect(config.demoUsers).toEqual(t.endpoints.users);
    const page = await fetch(`${t.endpoints.webUrl}/some/deep/link`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain(`connect-src 'self'`);
    expect(page.headers.get("content-security-policy")).toContain(t.endpoints.cognito.endpoint);
    expect(page.headers.get("x-frame-options")).toBe("DENY");
    const foreign = await fetch(`${t.endpoints.webUrl}/event`, { method: "POST", headers: { origin: "http://evil.example" }, body: "{}" });
    expect(foreign.status).toBe(403);
    // A DNS-rebinding page reaches 127.0.0.1 under a foreign name: refused (fetch cannot set Host).
    const port = Number(new URL(t.endpoints.webUrl!).port);
    const otherName = await new Promise<number>((resolve, reject) =>
      get({ host: "127.0.0.1", port, path: "/config.json", headers: { host: `rebound.example:${port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      }).on("error", reject),
    );
    expect(otherName).toBe(421);
  });

  it("has the Events server itself allow exactly webUrl's origin (what the relay forwards)", async () => {
    const events = new URL(t.endpoints.events.httpEndpoint);
    const preflight = { "access-control-request-method": "POST", "access-control-request-headers": "authorization" };
    const ours = await sendHttp(events, undefined, { ...preflight, origin: t.endpoints.webUrl! }, { method: "OPTIONS", ca: t.ca });
    expect(ours.status).toBe(204);
    expect(ours.headers["access-control-allow-origin"]).toBe(t.endpoints.webUrl);
    // The same host on another port is another origin.
    const port = Number(new URL(t.endpoints.webUrl!).port);
    const neighbour = await sendHttp(events, undefined, { ...preflight, origin: `http://localhost:${port + 1}` }, { method: "OPTIONS", ca: t.ca });
    expect(neighbour.status).toBe(403);
  });

  it("signs in as a listed demo user, streams an answer, switches model, stops, shows an error and starts a new chat", async () => {
    const user = defaultUser();
    await signInAsDemoUser(page, t.endpoints.webUrl!, user.username);

    // The model selector is filled from `models`, the stack's default preselected.
    const picker = page.getByLabel("Model");
    expect(await picker.inputValue()).toBe("us.amazon.nova-lite-v1:0");
    expect(await picker.locator("option").allTextContents()).toEqual(["Amazon Nova Lite (default)", "Llama 3.3 70B Instruct"]);

    // The answer streams in: seen part-way, then finished, equal to what the gateway sent.
    const answer = await send(page, "Tell me about **streams** [[fake:tokens=60,rate=30]]");
    await waitForStatus(answer, "streaming");
    const partial = (await answer.locator(".message-text").textContent()) ?? "";
    await waitForStatus(answer, "done");
    const requestId = (await answer.getAttribute("data-request-id"))!;
    const full = (await answer.locator(".message-text").textContent()) ?? "";
    expect(squash(full).length).toBeGreaterThan(squash(partial).length);
    expect(squash(full)).toBe(squash(publishedAnswer(requestId)));
    expect(await page.locator("article.message.user").first().textContent()).toContain("Tell me about **streams**");
    // Usage and conversations came without a notice; the turn is listed under its first message.
    expect(await page.locator(".notice").count()).toBe(0);
    await expect.poll(() => page.locator(".conversation-list li.current .title").textContent()).toBe("Tell me about **streams** [[fake:tokens=60,rate=30]]");
    expect(await page.locator(".usage-panel").textContent()).toContain("tier default");
    await screenshot(page, "desktop-answer");

    // Switch model: the request names it and the answer says which model wrote it.
    await picker.selectOption("us.meta.llama3-3-70b-instruct-v1:0");
    const llama = await send(page, "And now from another model [[fake:tokens=8]]");
    await waitForStatus(llama, "done");
    expect(await llama.locator(".message-author").textContent()).toContain("Llama 3.3 70B Instruct");
    expect(t.gateway.bedrock!.requests.at(-1)!.modelId).toBe("us.meta.llama3-3-70b-instruct-v1:0");

    // Stop: the Stop button replaces Send while an answer runs; after it, the answer is stopped.
    const long = await send(page, "A long one [[fake:tokens=200,rate=20]]");
    await waitForStatus(long, "streaming");
    await page.getByRole("button", { name: "Stop" }).click();
    await waitForStatus(long, "cancelled");
    // Stopped on the gateway (done with stopReason "cancelled"), not only hidden here.
    expect(await long.locator(".message-status").textContent()).toBe("Stopped.");
    expect(await page.getByRole("button", { name: "Send" }).isVisible()).toBe(true);

    // A model failure mid-answer: the text so far stays, the error is a sentence.
    const failing = await send(page, "Fail half-way [[fake:tokens=20,fault=midstream,after=3]]");
    await waitForStatus(failing, "failed");
    expect(await failing.getByRole("alert").textContent()).toBe("The model failed while answering. Send your message again.");
    expect(status(failing)).resolves.toBe("failed");

    // Keyboard: Shift+Enter is a new line, not a send.
    const box = page.getByRole("textbox", { name: "Message" });
    await box.fill("line one");
    await box.press("Shift+Enter");
    await box.pressSequentially("line two");
    expect(await box.inputValue()).toBe("line one\nline two");
    expect(await page.locator("article.message.user").count()).toBe(4);
    await box.fill("");

    // New chat: an empty conversation, ready for a message.
    await page.getByRole("button", { name: "+ New chat" }).click();
    expect(await page.locator("article.message").count()).toBe(0);
    expect(await page.getByText("Ask anything.").isVisible()).toBe(true);
    const fresh = await send(page, "First message of a new chat [[fake:tokens=5]]");
    await waitForStatus(fresh, "done");
  });

  it("sends a chat again under the same requestId when its answer does not start in time, and shows the reconnecting state", async () => {
    const routed = await browser.context.newPage();
    let dropChat = true;
    let refuse = false;
    const dropped: string[] = [];
    const sockets: WebSocketRoute[] = [];
    await routed.routeWebSocket(/\/event\/realtime$/, (ws) => {
      if (refuse) return void ws.close({ code: 1011, reason: "test: server away" });
      sockets.push(ws);
      const server = ws.connectToServer();
      ws.onMessage((message) => {
        const frame = JSON.parse(String(message)) as { type: string; events?: string[] };
        const chat = frame.type === "publish" ? frame.events?.map((e) => JSON.parse(e) as InboundRequest).find((r) => r.action === "chat") : undefined;
        // The first chat's publish is lost on the way, as on a flaky network.
        if (chat && dropChat) {
          dropChat = false;
          dropped.push(chat.requestId);
          return;
        }
        server.send(message);
      });
    });
    await routed.goto(t.endpoints.webUrl!);
    await connected(routed);

    const answer = await send(routed, "Did this arrive? [[fake:tokens=5]]");
    const requestId = (await answer.getAttribute("data-request-id"))!;
    expect(dropped).toEqual([requestId]);
    await expect.poll(() => answer.locator(".message-status").textContent(), { timeout: 20_000 }).toBe("No answer yet: sent again (1).");
    await waitForStatus(answer, "done");
    expect(inboundChats(requestId)).toHaveLength(1);

    // The connection drops and the server stays away for a while: the banner says so, then clears.
    refuse = true;
    sockets.at(-1)!.close({ code: 1006, reason: "test: connection lost" });
    const banner = routed.locator(".connection-banner");
    await expect.poll(() => banner.textContent()).toBe("Connection lost. Reconnecting…");
    await routed.getByRole("textbox", { name: "Message" }).fill("Back again [[fake:tokens=3]]");
    expect(await routed.getByRole("button", { name: "Send" }).isDisabled()).toBe(true);
    await screenshot(routed, "desktop-reconnecting");
    refuse = false;
    await connected(routed);
    const after = await send(routed, "Back again [[fake:tokens=3]]");
    await waitForStatus(after, "done");
    await routed.close();
  });

  it("works at phone width: the sidebar is a drawer opened from the menu button", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, "phone-chat");
    const menu = page.getByRole("button", { name: "Conversations and usage" });
    expect(await page.getByRole("button", { name: "+ New chat" }).isVisible()).toBe(false);
    await menu.click();
    expect(await menu.getAttribute("aria-expanded")).toBe("true");
    await expect.poll(() => page.getByRole("button", { name: "+ New chat" }).isVisible()).toBe(true);
    await screenshot(page, "phone-drawer");
    await page.keyboard.press("Escape");
    await expect.poll(() => menu.getAttribute("aria-expanded")).toBe("false");
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it("lists the demo users on the sign-in page and says when the password is wrong", async () => {
    const other = await browser.context.newPage();
    await other.goto(t.endpoints.webUrl!);
    // The same profile is signed in: sign out first to reach the form.
    await other.getByRole("button", { name: "Sign out" }).click();
    await other.getByRole("heading", { name: "Sign in" }).waitFor();
    for (const user of t.endpoints.users) expect(await other.getByRole("button", { name: user.username, exact: true }).isVisible()).toBe(true);
    await screenshot(other, "desktop-sign-in");
    await other.getByLabel("E-mail address").fill(defaultUser().username);
    await other.getByLabel("Password").fill("Not-The-Passw0rd!");
    await other.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect.poll(() => other.getByRole("alert").textContent()).toBe("The e-mail address or password is not right.");
    await other.close();
  });
});
