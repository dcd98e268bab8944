import type { CallToolResult, ContentBlock } from "@modelcontextprotocol/sdk/types.js";

/**
 * The text the model sees for an MCP tool result. `structuredContent`, when
 * present, wins: the spec has servers repeat it as JSON in a text part for
 * older clients, so joining both would say everything twice. Binary parts
 * become a short `[image: image/png]` note: base64 would only burn tokens.
 */
export function resultText(result: CallToolResult): string {
  if (result.structuredContent !== undefined && result.isError !== true) return JSON.stringify(result.structuredContent);
  // Servers on the 2024-10-07 protocol answer `{ toolResult }` instead of `content`.
  if (result.content.length === 0 && "toolResult" in result) return stringify(result.toolResult);
  return result.content.map(partText).join("\n");
}

function partText(part: ContentBlock): string {
  switch (part.type) {
    case "text":
      return part.text;
    case "image":
    case "audio":
      return `[${part.type}: ${part.mimeType}]`;
    case "resource_link":
      return `[resource: ${part.uri}]`;
    case "resource":
      // An embedded text resource is usually the payload itself (a file's contents): keep it.
      return "text" in part.resource && typeof part.resource.text === "string"
        ? part.resource.text
        : `[resource: ${part.resource.uri}${part.resource.mimeType ? ` (${part.resource.mimeType})` : ""}]`;
    default:
      return `[${(part as { type: string }).type}]`;
  }
}

function stringify(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}
