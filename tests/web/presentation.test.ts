import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "../../functions/lib/protocol/errors.js";
import { errorSentence, formatWait } from "../../web/src/chat/errors.js";
import { usageLevel } from "../../web/src/chat/usage.js";
import { renderMarkdown } from "../../web/src/markdown.js";
import { contentSecurityPolicy } from "../../web/security-headers.js";

const AT = Date.UTC(2026, 0, 1, 12, 0, 0);

describe("error sentences", () => {
  it("gives every protocol error code its own sentence, never the raw code", () => {
    const sentences = ERROR_CODES.map((code) => errorSentence({ code, message: "raw gateway text", receivedAt: AT }));
    for (const [i, sentence] of sentences.entries()) {
      expect(sentence).toMatch(/^[A-Z].*\.$/);
      expect(sentence).not.toContain(ERROR_CODES[i]);
    }
    expect(new Set(sentences).size).toBe(ERROR_CODES.length);
  });

  it("says when a limit resets, counting down from when the refusal arrived", () => {
    const error = { code: "limit_exceeded" as const, message: "x", retryAfterSeconds: 2 * 3600 + 5 * 60, receivedAt: AT, details: { window: "daily" } };
    expect(errorSentence(error, AT)).toMatch(/^You have used up your 24-hour token allowance\. It resets in 2 h 5 min \(at .+\)\.$/);
    expect(errorSentence(error, AT + 3600_000)).toContain("It resets in 1 h 5 min");
    expect(errorSentence(error, AT + 3 * 3600_000)).toContain("You can try again now.");
  });

  it("tells how long to wait on rate and throttling errors", () => {
    expect(errorSentence({ code: "rate_limited", message: "x", retryAfterSeconds: 30, receivedAt: AT })).toBe("You are sending requests faster than your plan allows. Try again in 30 s.");
    expect(errorSentence({ code: "model_throttled", message: "x", retryAfterSeconds: 90, receivedAt: AT })).toBe("The model is busy right now. Try again in 2 min.");
  });

  it("names the fields of an invalid request, the models a tier allows, and an action the gateway lacks", () => {
    expect(errorSentence({ code: "invalid_request", message: "x", details: { fields: [{ field: "message", problem: "too long" }] }, receivedAt: AT })).toContain("(message)");
    expect(errorSentence({ code: "model_not_allowed", message: "x", details: { allowed: ["a", "b"] }, receivedAt: AT })).toBe("Your plan cannot use this model. Pick one of: a, b.");
    expect(errorSentence({ code: "invalid_request", message: "x", details: { action: "usage" }, receivedAt: AT })).toBe('This gateway does not offer "usage" yet.');
  });

  it("says a message too long for the allowance must be shortened (no retryAfterSeconds: waiting cannot help)", () => {
    const error = { code: "limit_exceeded" as const, message: "x", receivedAt: AT, details: { window: "monthly", tokenType: "inputTokens" } };
    expect(errorSentence(error)).toBe("This message is too long for your monthly token allowance. Shorten it and send it again.");
  });

  it("names allowed models by their names, and tells a model the account has not enabled apart from an outage", () => {
    const names = new Map([["us.amazon.nova-lite-v1:0", "Amazon Nova Lite"]]);
    expect(errorSentence({ code: "model_not_allowed", message: "x", details: { allowed: ["us.amazon.nova-lite-v1:0", "other"] }, receivedAt: AT }, AT, names)).toBe(
      "Your plan cannot use this model. Pick one of: Amazon Nova Lite, other.",
    );
    expect(errorSentence({ code: "model_unavailable", message: "x", details: { reason: "model_not_enabled" }, receivedAt: AT })).toBe(
      "This model is not enabled for this gateway yet. Pick another model.",
    );
    expect(errorSentence({ code: "model_unavailable", message: "x", retryAfterSeconds: 5, receivedAt: AT })).toBe("The model is not available right now. Try again in 5 s.");
  });

  it("tells when to send a dead-lettered message again", () => {
    const error = { code: "internal_error" as const, message: "x", retryAfterSeconds: 20, details: { deadLettered: true }, receivedAt: AT };
    expect(errorSentence(error, AT)).toBe("The gateway could not process this message. Send it again in 20 s.");
    expect(errorSentence(error, AT + 30_000)).toBe("The gateway could not process this message. Send it again.");
  });

  it("formats waits as people say them", () => {
    expect([45, 60, 61, 3600, 3660, 86400 * 3].map(formatWait)).toEqual(["45 s", "1 min", "2 min", "1 h", "1 h 1 min", "3 days"]);
  });
});

describe("usage bars", () => {
  it("turn amber at 75% and red at 90%", () => {
    expect([0, 74, 75, 89, 90, 100, 150].map((used) => usageLevel(used, 100))).toEqual(["ok", "ok", "warning", "warning", "critical", "critical", "critical"]);
    expect(usageLevel(0, 0)).toBe("ok");
  });
});

describe("colour contrast (WCAG AA)", () => {
  const css = readFileSync(join(import.meta.dirname, "../../web/src/styles.css"), "utf8");
  const colour = (name: string): string => {
    const match = new RegExp(`--${name}:\\s*(#[0-9a-f]{6})`, "i").exec(css);
    if (!match) throw new Error(`styles.css has no --${name}`);
    return match[1]!;
  };
  const luminance = (hex: string) => {
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
  };
  const contrast = (a: string, b: string) => {
    const [light, dark] = [luminance(colour(a)), luminance(colour(b))].sort((x, y) => y - x);
    return (light! + 0.05) / (dark! + 0.05);
  };

  it("gives text 4.5:1 on every background it is shown on", () => {
    const pairs: [string, string][] = [
      ["text", "bg"], ["text", "panel"], ["text", "current"], ["muted", "bg"], ["muted", "panel"], ["muted", "current"],
      ["accent", "panel"], ["accent-text", "accent"], ["accent-text", "danger"], ["danger", "panel"],
      ["wait-text", "wait-bg"], ["alert-text", "alert-bg"],
    ];
    for (const [text, background] of pairs) expect({ text, background, ratio: contrast(text, background) >= 4.5 }).toEqual({ text, background, ratio: true });
  });

  it("gives the usage bars (every level) and the focus ring 3:1 against what surrounds them", () => {
    for (const bar of ["ok-bar", "warning-bar", "critical-bar"]) expect({ bar, ratio: contrast(bar, "bar-track") >= 3 }).toEqual({ bar, ratio: true });
    for (const background of ["panel", "bg"]) expect(contrast("focus", background)).toBeGreaterThanOrEqual(3);
  });
});

describe("safe Markdown", () => {
  it("renders code blocks and escapes raw HTML from the model", () => {
    const html = renderMarkdown("Hi <script>alert(1)</script> <img src=x onerror=alert(1)>\n\n```js\nconst a = '<b>';\n```");
    expect(html).not.toContain("<script");
    expect(html).not.toContain("<img");
    expect(html).toContain("&lt;script&gt;");
    expect(html).toContain('<pre><code class="language-js">const a = \'&lt;b&gt;\';');
  });

  it("keeps http(s) links, opens them without an opener, and drops javascript: and data: links and images", () => {
    const html = renderMarkdown("[ok](https://example.com) [bad](javascript:alert(1)) [data](data:text/html,x) ![pixel](https://tracker.example/p.png)");
    expect(html).toContain('<a href="https://example.com" target="_blank" rel="noopener noreferrer nofollow">ok</a>');
    expect(html).not.toContain('href="javascript:');
    expect(html).toContain("[bad](javascript:alert(1))"); // left as inert text
    expect(html).not.toContain('href="data:');
    expect(html).not.toContain("<img");
    expect(html).toContain("pixel");
  });
});

describe("content security policy", () => {
  it("allows scripts from the page only and connections to exactly the listed origins", () => {
    const csp = contentSecurityPolicy({ connect: ["https://api.example.com/event", "wss://rt.example.com/event/realtime", "https://api.example.com/other"] });
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self' https://api.example.com wss://rt.example.com;");
    expect(csp).toContain("frame-ancestors 'none'");
  });
});
