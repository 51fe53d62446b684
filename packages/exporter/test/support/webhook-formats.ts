/**
 * What Slack and Discord accept, from their documentation (read 2026-12-04), as checks that list
 * every violation. Slack: "Sending messages using incoming webhooks" and the Block Kit reference
 * (docs.slack.dev/reference/block-kit/blocks: header text plain_text <= 150 chars, section text
 * <= 3000, section fields <= 10 of <= 2000 each, context elements <= 10, <= 50 blocks a message;
 * `text` is the notification fallback, required when blocks are used). Discord: "Execute Webhook"
 * and "Embed Limits" (discord.com/developers/docs/resources/webhook, /resources/message: content
 * <= 2000, <= 10 embeds, title <= 256, description <= 4096, <= 25 fields, field name <= 256 and
 * value <= 1024 (both required, non-empty), footer text <= 2048, 6000 characters across all embeds,
 * color an integer 0..0xFFFFFF, timestamp ISO8601; one of content / embeds / files required).
 */

const isStr = (v: unknown): v is string => typeof v === 'string';

export function slackProblems(body: any): string[] {
  const p: string[] = [];
  if (!body || typeof body !== 'object') return ['body is not a JSON object'];
  if (!isStr(body.text) || body.text.length === 0) p.push('text (the fallback) missing');
  if (body.blocks !== undefined) {
    if (!Array.isArray(body.blocks) || body.blocks.length > 50) p.push('blocks must be a list of at most 50');
    else
      body.blocks.forEach((b: any, i: number) => {
        const textObj = (t: any, at: string, max: number, plainOnly = false) => {
          if (!t || !isStr(t.text) || t.text.length === 0) p.push(`${at}.text missing`);
          else if (t.text.length > max) p.push(`${at}.text over ${max} chars`);
          if (!t || (plainOnly ? t.type !== 'plain_text' : !['plain_text', 'mrkdwn'].includes(t.type)))
            p.push(`${at}.type must be ${plainOnly ? 'plain_text' : 'plain_text or mrkdwn'}`);
        };
        switch (b.type) {
          case 'header':
            textObj(b.text, `blocks[${i}].text`, 150, true);
            break;
          case 'section':
            if (b.text === undefined && b.fields === undefined) p.push(`blocks[${i}]: section needs text or fields`);
            if (b.text !== undefined) textObj(b.text, `blocks[${i}].text`, 3000);
            if (b.fields !== undefined) {
              if (!Array.isArray(b.fields) || b.fields.length > 10) p.push(`blocks[${i}].fields: at most 10`);
              else b.fields.forEach((f: any, j: number) => textObj(f, `blocks[${i}].fields[${j}]`, 2000));
            }
            break;
          case 'context':
            if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 10) p.push(`blocks[${i}].elements: 1..10`);
            else b.elements.forEach((e: any, j: number) => textObj(e, `blocks[${i}].elements[${j}]`, 3000));
            break;
          case 'divider':
            break;
          default:
            p.push(`blocks[${i}]: unexpected block type ${b.type}`);
        }
      });
  }
  return p;
}

export function discordProblems(body: any): string[] {
  const p: string[] = [];
  if (!body || typeof body !== 'object') return ['body is not a JSON object'];
  if (body.content === undefined && body.embeds === undefined) p.push('one of content or embeds is required');
  if (body.content !== undefined && (!isStr(body.content) || body.content.length > 2000)) p.push('content: a string of at most 2000');
  if (body.username !== undefined && (!isStr(body.username) || body.username.length < 1 || body.username.length > 80)) p.push('username: 1..80 chars');
  let total = 0;
  if (body.embeds !== undefined) {
    if (!Array.isArray(body.embeds) || body.embeds.length > 10) p.push('embeds: at most 10');
    else
      body.embeds.forEach((e: any, i: number) => {
        const len = (v: unknown, at: string, max: number) => {
          if (v === undefined) return;
          if (!isStr(v)) p.push(`${at}: not a string`);
          else {
            if (v.length > max) p.push(`${at}: over ${max}`);
            total += v.length;
          }
        };
        len(e.title, `embeds[${i}].title`, 256);
        len(e.description, `embeds[${i}].description`, 4096);
        len(e.footer?.text, `embeds[${i}].footer.text`, 2048);
        if (e.color !== undefined && (!Number.isInteger(e.color) || e.color < 0 || e.color > 0xffffff)) p.push(`embeds[${i}].color: integer 0..0xFFFFFF`);
        if (e.timestamp !== undefined && !(isStr(e.timestamp) && !Number.isNaN(Date.parse(e.timestamp)) && /^\d{4}-\d\d-\d\dT/.test(e.timestamp)))
          p.push(`embeds[${i}].timestamp: ISO8601`);
        if (e.fields !== undefined) {
          if (!Array.isArray(e.fields) || e.fields.length > 25) p.push(`embeds[${i}].fields: at most 25`);
          else
            e.fields.forEach((f: any, j: number) => {
              if (!isStr(f.name) || f.name.length === 0) p.push(`embeds[${i}].fields[${j}].name required`);
              if (!isStr(f.value) || f.value.length === 0) p.push(`embeds[${i}].fields[${j}].value required`);
              len(f.name, `embeds[${i}].fields[${j}].name`, 256);
              len(f.value, `embeds[${i}].fields[${j}].value`, 1024);
            });
        }
      });
  }
  if (total > 6000) p.push(`embeds: ${total} characters in all, over 6000`);
  return p;
}
