import { z } from "zod";

/** Seed 004 §4.2: limits on developer-supplied metadata. */
export const METADATA_LIMITS = {
  maxEntries: 16,
  keyPattern: /^[A-Za-z0-9._-]{1,64}$/,
  maxValueLength: 256,
  maxSerializedBytes: 4096,
} as const;

export const Metadata = z
  .record(z.string(), z.string().max(METADATA_LIMITS.maxValueLength, `values are strings of at most ${METADATA_LIMITS.maxValueLength} characters`))
  .superRefine((value, ctx) => {
    const keys = Object.keys(value);
    if (keys.length > METADATA_LIMITS.maxEntries) {
      ctx.addIssue({ code: "custom", message: `at most ${METADATA_LIMITS.maxEntries} entries (got ${keys.length})` });
    }
    for (const key of keys) {
      if (!METADATA_LIMITS.keyPattern.test(key)) {
        ctx.addIssue({ code: "custom", path: [key], message: "keys must match ^[A-Za-z0-9._-]{1,64}$" });
      }
    }
    const bytes = new TextEncoder().encode(JSON.stringify(value)).length;
    if (bytes > METADATA_LIMITS.maxSerializedBytes) {
      ctx.addIssue({ code: "custom", message: `serialized metadata is ${bytes} bytes; the limit is ${METADATA_LIMITS.maxSerializedBytes}` });
    }
  });
export type Metadata = z.infer<typeof Metadata>;
