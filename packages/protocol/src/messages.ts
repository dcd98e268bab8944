import { z } from "zod";
import { FIELD_LIMITS } from "./limits.js";

export const MessageRole = z.enum(["user", "assistant", "system"]);
export type MessageRole = z.infer<typeof MessageRole>;

/** A plain conversation turn, as carried in `messages` and session history. */
export const ChatMessage = z.strictObject({
  role: MessageRole,
  content: z.string().max(FIELD_LIMITS.messageChars),
});
export type ChatMessage = z.infer<typeof ChatMessage>;
