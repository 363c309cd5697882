/**
 * Model answers as safe Markdown: markdown-it with raw HTML off (the model's text can never
 * inject markup), links limited to http(s) and mailto and opened without an opener, code
 * fences kept as escaped <pre><code>. Pure (no DOM), so tests render with it directly.
 */
import MarkdownIt from "markdown-it";

const SAFE_LINK = /^(https?:|mailto:)/i;

const markdown = new MarkdownIt({ html: false, linkify: true, breaks: false, typographer: false });

// markdown-it already refuses javascript:, vbscript:, file: and most data: URLs; allow only
// what a chat answer needs, including relative links (which resolve to this page).
markdown.validateLink = (url: string) => SAFE_LINK.test(url.trim()) || !/^[a-z][a-z0-9+.-]*:/i.test(url.trim());

const defaultLinkOpen =
  markdown.renderer.rules.link_open ?? ((tokens, index, options, _env, self) => self.renderToken(tokens, index, options));
markdown.renderer.rules.link_open = (tokens, index, options, env, self) => {
  tokens[index]!.attrSet("target", "_blank");
  tokens[index]!.attrSet("rel", "noopener noreferrer nofollow");
  return defaultLinkOpen(tokens, index, options, env, self);
};

// Images would load from anywhere the model names (tracking pixels): show their text instead.
markdown.renderer.rules.image = (tokens, index) => markdown.utils.escapeHtml(tokens[index]!.content || "[image]");

export function renderMarkdown(text: string): string {
  return markdown.render(text);
}
